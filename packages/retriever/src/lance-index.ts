import { mkdir } from 'node:fs/promises';
import * as lancedb from '@lancedb/lancedb';
import * as arrow from 'apache-arrow';
import { BackendUnavailableError, InvalidInputError, type IndexEntry, type IndexHit } from '@recipe-kit/core';
import { BatchedIndex } from './batched-index.js';

export interface LanceIndexOptions {
  /** Directory of the LanceDB database (created if needed). */
  directory: string;
  /** Table name (default "knowledge"). */
  table?: string;
  /** "overwrite" starts empty (default); "reopen" keeps the rows an earlier process wrote. */
  mode?: 'overwrite' | 'reopen';
  /** Rows per write (default 4096): every LanceDB write is a new data file. */
  batchRows?: number;
  /** Build an IVF_FLAT (dot) index once the table holds this many rows (default 50 000); below it LanceDB scans. */
  indexAt?: number;
  /** IVF partitions (default √rows at build time, at least 16). */
  numPartitions?: number;
  /** Partitions probed per query (default 32). */
  nprobes?: number;
}

const escapeLiteral = (id: string): string => `'${id.replaceAll("'", "''")}'`;

/**
 * A `KnowledgeIndex` in an embedded LanceDB table on disk (columns id, vector). LanceDB's "dot"
 * distance is 1 − x·q, converted back to the inner product. Rows written after the IVF index was built
 * are scanned exactly by LanceDB until `optimize` folds them in, so results never miss new rows.
 */
export class LanceIndex extends BatchedIndex {
  readonly directory: string;
  private readonly table: lancedb.Table;
  private readonly connection: lancedb.Connection;
  private readonly indexAt: number;
  private readonly numPartitions: number | undefined;
  private nprobes: number;
  private indexed: boolean;
  private rowsSinceOptimize = 0;

  private constructor(dimension: number, options: LanceIndexOptions, connection: lancedb.Connection, table: lancedb.Table, indexed: boolean) {
    super(dimension, options.batchRows ?? 4096);
    this.directory = options.directory;
    this.connection = connection;
    this.table = table;
    this.indexAt = options.indexAt ?? 50_000;
    this.numPartitions = options.numPartitions;
    this.nprobes = options.nprobes ?? 32;
    this.indexed = indexed;
  }

  static async open(dimension: number, options: LanceIndexOptions): Promise<LanceIndex> {
    if (typeof options.directory !== 'string' || options.directory.length === 0) {
      throw new InvalidInputError('The lancedb index needs a directory.', 'Pass { directory: "path/to/db" }: LanceDB keeps its table on disk.');
    }
    await mkdir(options.directory, { recursive: true });
    let connection: lancedb.Connection;
    try {
      connection = await lancedb.connect(options.directory);
    } catch (error) {
      throw new BackendUnavailableError(`LanceDB could not open ${options.directory}.`, 'Check the directory is writable; reinstall with `pnpm install` if the native @lancedb/lancedb-linux-x64-gnu binary is missing.', { cause: error });
    }
    const name = options.table ?? 'knowledge';
    const schema = new arrow.Schema([
      new arrow.Field('id', new arrow.Utf8(), false),
      new arrow.Field('vector', new arrow.FixedSizeList(dimension, new arrow.Field('item', new arrow.Float32(), true)), false),
    ]);
    const exists = (await connection.tableNames()).includes(name);
    if (options.mode === 'reopen' && exists) {
      const table = await connection.openTable(name);
      const indexed = (await table.listIndices()).some((index) => index.columns.includes('vector'));
      const index = new LanceIndex(dimension, options, connection, table, indexed);
      const rows = await table.query().select(['id']).toArray();
      index.adoptStoredIds(rows.map((row: { id: string }) => row.id));
      return index;
    }
    const table = await connection.createEmptyTable(name, schema, { mode: 'overwrite' });
    return new LanceIndex(dimension, options, connection, table, false);
  }

  protected async writeRows(entries: readonly IndexEntry[]): Promise<void> {
    await this.table.add(entries.map((entry) => ({ id: entry.id, vector: Array.from(entry.vector) })));
    this.rowsSinceOptimize += entries.length;
    const rows = this.size - this.pendingRows;
    if (!this.indexed && rows >= this.indexAt) {
      const numPartitions = this.numPartitions ?? Math.max(16, Math.round(Math.sqrt(rows)));
      await this.table.createIndex('vector', { config: lancedb.Index.ivfFlat({ numPartitions, distanceType: 'dot' }) });
      this.indexed = true;
      this.rowsSinceOptimize = 0;
    } else if (this.indexed && this.rowsSinceOptimize >= Math.max(this.batchRows, 0.1 * rows)) {
      // Unindexed rows are scanned on every query; fold them into the index once they are 10% of it.
      await this.table.optimize();
      this.rowsSinceOptimize = 0;
    }
  }

  /** Sets how many IVF partitions later searches probe (recall against time; no effect before the index exists). */
  setSearchParameter(value: number): void {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidInputError(`LanceDB's nprobes must be a positive integer, got ${String(value)}.`, 'Pass e.g. 64.');
    }
    this.nprobes = value;
  }

  protected async deleteRows(ids: readonly string[]): Promise<void> {
    await this.table.delete(`id IN (${ids.map(escapeLiteral).join(', ')})`);
  }

  protected async searchRows(query: Float32Array, k: number): Promise<IndexHit[]> {
    let search = this.table.vectorSearch(query).distanceType('dot').select(['id', '_distance']).limit(k);
    if (this.indexed) search = search.nprobes(this.nprobes);
    const rows = (await search.toArray()) as Array<{ id: string; _distance: number }>;
    return rows.map((row) => ({ id: row.id, score: 1 - row._distance }));
  }

  protected async getRow(id: string): Promise<Float32Array | null> {
    const rows = (await this.table.query().where(`id = ${escapeLiteral(id)}`).select(['vector']).limit(1).toArray()) as Array<{ vector: { toArray(): Float32Array } }>;
    return rows.length === 0 ? null : Float32Array.from(rows[0]!.vector.toArray());
  }

  protected async close(): Promise<void> {
    this.table.close();
    this.connection.close();
  }
}
