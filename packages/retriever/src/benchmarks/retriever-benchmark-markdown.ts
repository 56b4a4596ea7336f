import path from 'node:path';
import { KNOWLEDGE_INDEX_BACKENDS } from '../knowledge-index-registry.js';
import type { PhaseLoad } from './machine-load.js';
import type { RetrieverBenchmarkReport } from './retriever-benchmark.js';

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const count = (value: number): string => (value >= 1_000_000 ? `${value / 1_000_000}M` : value >= 1000 ? `${value / 1000}k` : String(value));
const phaseLoad = (load: PhaseLoad | undefined): string => (load === undefined ? '—' : `${load.start[0]} → ${load.end[0]}${load.waitedSeconds !== undefined ? ` (waited ${Math.round(load.waitedSeconds)} s)` : ''}`);
const bytes = (value: number): string => (!Number.isFinite(value) ? '—' : value >= 1024 ? `${(value / 1024).toFixed(1)} KiB` : `${Math.round(value)} B`);

type ResultRow = RetrieverBenchmarkReport['results'][number];

/** Which keys a row measured: i.i.d. random, structured (shared direction) or a RECIPE encoder's. */
const keysLabel = (result: Pick<ResultRow, 'keys' | 'sharedCosine'>): string => (result.keys === 'recipe' ? 'RECIPE' : result.sharedCosine ? `structured (cos ${result.sharedCosine})` : 'random');
const keysOrder = (result: ResultRow): number => (result.keys === 'recipe' ? 2 : result.sharedCosine ? 1 : 0);

/** "0.702 (0.741)": the backend's own-fact share after rescoring, and the exact scan's at that size. */
const ownFact = (result: ResultRow): string =>
  `${result.sourceAt1 === undefined ? '—' : fixed(result.sourceAt1, 3)} (${result.sourceAgreement === undefined ? '—' : fixed(result.sourceAgreement, 3)})`;
const backendOrder = (name: string): number => {
  const position = KNOWLEDGE_INDEX_BACKENDS.findIndex((backend) => backend.name === name);
  return position < 0 ? KNOWLEDGE_INDEX_BACKENDS.length : position;
};

/** The benchmark as Markdown: one table per key width, then durability and the RECIPE end-to-end ratio. */
export function renderRetrieverMarkdown(report: RetrieverBenchmarkReport): string {
  const { machine, settings } = report;
  const lines = [
    '# Retriever backends at scale',
    '',
    `${(report.runs ?? [report.createdAt]).join(' + ')}${(report.runs?.length ?? 1) > 1 ? ' (runs; each row\'s is in the JSON)' : ''}, git ${report.git}; ${machine.cpus}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; load average at the end ${machine.loadAverage.join(' / ')} (the 2 cores are shared with other jobs, so wall-clock latencies are noisy upper bounds; each latency phase records the 1-minute load at its start and end, and the process CPU time per query, which the other jobs inflate far less).`,
    '',
    `Data: random unit keys (i.i.d. Gaussian, normalised); ${settings.queries} queries (${settings.largeQueries ?? settings.queries} at 1M keys), each a noisy copy of a random stored key (noise norm ${settings.noise}, cos ≈ ${fixed(1 / Math.sqrt(1 + settings.noise ** 2), 2)}). ` +
      `Queries are single \`search(q, ${settings.k})\` calls (the repository fetches ${settings.k} candidates and rescores them exactly); recall@1 = share of queries whose exact-scan best key is the best after that rescoring. ` +
      `Approximate backends sweep their knob (efSearch / nprobe) upward until recall@1 ≥ ${settings.recallGoal}; the row reports that setting. faiss runs on ${settings.faissThreads} OpenMP thread(s) unless a row's settings say otherwise. ` +
      'Insert = bulk `add` of 1000 vectors per call; single add = one-vector `add` at size N (the index part of one edit; lancedb/chroma buffer adds and write them in batches, the repository journal makes edits durable). ' +
      'Memory = RSS growth per stored key (the Chroma server\'s RSS for chroma) — a rough figure: the process reuses memory freed by earlier steps, which can make it small or negative; faiss\'s written index size is a better guide to its memory; disk = the backend\'s files (lancedb, chroma), its written index (faiss) or the snapshot keys file (exact); reopen = reading those back.',
    '',
  ];
  const million = report.results.filter((result) => result.size >= 1_000_000 && result.dimension === 256).sort((a, b) => keysOrder(a) - keysOrder(b) || (a.sharedCosine ?? 0) - (b.sharedCosine ?? 0) || backendOrder(a.backend) - backendOrder(b.backend));
  if (million.length > 0) {
    lines.push(
      '## The 1M-edit goal',
      '',
      `Goal: at 1M keys of width 256, query p50 < 5 ms with recall@1 ≥ ${settings.recallGoal}, and one add < 1 ms. Wall-clock p50 depends on the other jobs on the 2 cores (the load column); CPU is this process's CPU time per query.`,
      '',
      '| keys | backend | recall@1 | query p50 wall (ms) | query CPU (ms) | load | single add p50 (ms) | goal |',
      '|---|---|---|---|---|---|---|---|',
      ...million.map((result) => {
        const recall = result.recallAt1 >= settings.recallGoal;
        const wall = result.query.p50Ms < 5;
        const cpu = result.query.cpuMeanMs !== undefined && result.query.cpuMeanMs < 5;
        const add = result.singleInsert.p50Ms < 1;
        const verdict = !recall || !add ? 'no' : wall ? 'met' : cpu ? 'met in CPU time, not in wall time under this load' : 'no';
        return `| ${keysLabel(result)} | ${result.backend} | ${fixed(result.recallAt1, 3)} | ${fixed(result.query.p50Ms, 2)} | ${result.query.cpuMeanMs === undefined ? '—' : fixed(result.query.cpuMeanMs, 2)} | ${phaseLoad(result.query.load)} | ${fixed(result.singleInsert.p50Ms, 3)} | ${verdict} |`;
      }),
      '',
    );
  }
  const groupOf = (result: ResultRow): string => `${result.dimension}|${keysLabel(result)}`;
  const groups = [...new Set([...report.results].sort((a, b) => keysOrder(a) - keysOrder(b)).map(groupOf))];
  for (const group of groups) {
    const members = report.results.filter((candidate) => groupOf(candidate) === group);
    const first = members[0] as ResultRow;
    const dimension = first.dimension;
    if (first.keys === 'recipe') {
      const agreement = [...new Map(members.map((member) => [member.size, member.sourceAgreement])).entries()]
        .sort(([a], [b]) => a - b)
        .map(([size, share]) => `${count(size)}: ${share === undefined ? '—' : `${fixed(100 * share, 1)}%`}`)
        .join(', ');
      lines.push(
        `## Key width ${dimension}, RECIPE keys (\`${first.keysSource ?? 'a trained checkpoint'}\`)`,
        '',
        `Keys are what RECIPE stores: r_k of made-up facts of the synthetic world's relations ("<train template with a new subject> <value>", one subject per fact), through the checkpoint's knowledge head; queries are held-out rephrasings of random stored facts through its query head (r_q), unseen templates as a user's paraphrase would be. ` +
          `Recall@1 is still agreement with the exact scan; how often the exact best key is the query's own fact measures the encoder itself at that size (${agreement}). ` +
          `"Own fact @1" is how often a backend's rescored best is the query's own fact, with the exact scan's share in brackets; a row timed on fewer queries ("50 q") scores it on those only.`,
        '',
      );
    } else {
      lines.push(
        first.sharedCosine ? `## Key width ${dimension}, structured keys (mean pairwise cos ≈ ${first.sharedCosine}; the main tables above use i.i.d. random keys)` : `## Key width ${dimension}`,
        '',
      );
    }
    // RECIPE keys know which fact each query was made from: "own fact @1" is what an edit's answer depends on.
    const ownColumn = first.keys === 'recipe';
    lines.push(`| N | backend | settings | inserts/s | single add p50 / p99 (ms) | query p50 / p99 (ms) | query CPU (ms) | load during queries | recall@1 |${ownColumn ? ' own fact @1 (exact) |' : ''} memory / edit | disk / edit | reopen (s) |`);
    lines.push(`|---|---|---|---|---|---|---|---|---|${ownColumn ? '---|' : ''}---|---|---|`);
    const rows = members
      // By size, then in registry order, whichever run measured them (--append adds rows at the end).
      .sort((a, b) => a.size - b.size || backendOrder(a.backend) - backendOrder(b.backend));
    for (const result of rows) {
      const knobs = Object.entries(result.parameters)
        .filter(([name, value]) => name !== 'threads' || value !== 1)
        .map(([name, value]) => `${name} ${value}`)
        .join(', ');
      lines.push(
        `| ${count(result.size)}${result.queries !== undefined && result.queries !== settings.queries ? ` (${result.queries} q)` : ''} | ${result.backend} | ${knobs || '—'} | ${fixed(result.insert.perSecond, 0)} | ${fixed(result.singleInsert.p50Ms, 3)} / ${fixed(result.singleInsert.p99Ms, 3)} | ` +
          `${fixed(result.query.p50Ms, 2)} / ${fixed(result.query.p99Ms, 2)} | ${result.query.cpuMeanMs === undefined ? '—' : fixed(result.query.cpuMeanMs, 2)} | ${phaseLoad(result.query.load)} | ${fixed(result.recallAt1, 3)} |${ownColumn ? ` ${ownFact(result)} |` : ''} ${bytes(result.memoryBytesPerEdit)} | ${bytes(result.diskBytesPerEdit)} | ${fixed(result.reopenSeconds, 2)} |`,
      );
    }
    lines.push('');
  }
  const where = (result: Pick<ResultRow, 'backend' | 'dimension' | 'keys' | 'sharedCosine' | 'size'>): string => `${result.backend}, width ${result.dimension}${result.keys === 'recipe' ? ' (RECIPE keys)' : result.sharedCosine ? ` (structured keys, cos ${result.sharedCosine})` : ''}, N ${count(result.size)}`;
  const notes = report.results.flatMap((result) => result.notes.map((note) => `- ${where(result)}: ${note}`));
  if (notes.length > 0) lines.push('Notes:', '', ...notes, '');
  if (report.skipped.length > 0) {
    lines.push('Not measured:', '');
    // One line per reason: the HNSW and server limits apply to many sizes, and repeating them hides the list.
    const byReason = new Map<string, string[]>();
    for (const skip of report.skipped) byReason.set(skip.reason, [...(byReason.get(skip.reason) ?? []), where(skip)]);
    for (const [reason, places] of byReason) lines.push(`- ${places.join('; ')}: ${reason}`);
    lines.push('');
  }
  const sweeps = report.results.filter((result) => result.sweep !== undefined);
  if (sweeps.length > 0) {
    lines.push('## Tuning sweeps (recall@1, query p50 ms)', '');
    for (const result of sweeps) {
      lines.push(`- ${where(result)}: ${result.sweep!.map((point) => `${point.parameter} ${point.value} → ${fixed(point.recallAt1, 3)}${point.sourceAt1 !== undefined && result.keys === 'recipe' ? ` (own fact ${fixed(point.sourceAt1, 3)})` : ''} @ ${fixed(point.p50Ms, 2)} ms${point.cpuMeanMs === undefined ? '' : ` (CPU ${fixed(point.cpuMeanMs, 2)} ms, load ${phaseLoad(point.load)})`}`).join('; ')}`);
    }
    lines.push('');
  }
  if (report.durable !== null) {
    const durable = report.durable;
    lines.push(
      '## Durable edits (KnowledgeRepository.open)',
      '',
      `${durable.edits} edits (key ${durable.keyWidth}, prompt [${durable.promptShape.join(', ')}]), each acknowledged after its journal record is fsynced: ` +
        `add p50 ${fixed(durable.add.p50Ms, 3)} ms, p99 ${fixed(durable.add.p99Ms, 3)} ms, mean ${fixed(durable.add.meanMs, 3)} ms. Reopen (snapshot + journal replay) ${fixed(durable.reopenSeconds, 3)} s; compaction ${fixed(durable.compactSeconds, 3)} s.`,
      '',
    );
  }
  if (report.endToEnd !== null) {
    const e2e = report.endToEnd;
    const relative = (file: string): string => path.relative(path.resolve(path.dirname(file), '..'), file);
    lines.push(
      '## RECIPE end to end',
      '',
      `RECIPE on \`${relative(e2e.model)}\` (checkpoint \`${path.basename(e2e.checkpoint)}\`, tensor backend ${e2e.tensorBackend}), one probe per \`scoreContinuations\` call, ${e2e.probes} probes; ` +
        `${count(e2e.storedKeys)} random keys (width ${e2e.keyWidth}) inserted into its repository through KnowledgeRepository.addMany in batches of 10k (${fixed(e2e.fillSeconds, 1)} s), index ${e2e.indexBackend} (${Object.entries(e2e.parameters).map(([name, value]) => `${name} ${value}`).join(', ')}).`,
      '',
      '| stored keys | query p50 / p99 (ms) | retrieve p50 / p99 (ms) | 1-min load (start → end) |',
      '|---|---|---|---|',
      `| 0 | ${fixed(e2e.emptyQuery.p50Ms, 2)} / ${fixed(e2e.emptyQuery.p99Ms, 2)} | ${fixed(e2e.emptyRetrieve.p50Ms, 2)} / ${fixed(e2e.emptyRetrieve.p99Ms, 2)} | ${phaseLoad(e2e.load?.empty)} |`,
      `| 1 | ${fixed(e2e.oneKeyQuery.p50Ms, 2)} / ${fixed(e2e.oneKeyQuery.p99Ms, 2)} | ${fixed(e2e.oneKeyRetrieve.p50Ms, 2)} / ${fixed(e2e.oneKeyRetrieve.p99Ms, 2)} | ${phaseLoad(e2e.load?.oneKey)} |`,
      `| ${count(e2e.storedKeys)} | ${fixed(e2e.fullQuery.p50Ms, 2)} / ${fixed(e2e.fullQuery.p99Ms, 2)} | ${fixed(e2e.fullRetrieve.p50Ms, 2)} / ${fixed(e2e.fullRetrieve.p99Ms, 2)} | ${phaseLoad(e2e.load?.full)} |`,
      '',
      `Ratio of query p50 with ${count(e2e.storedKeys)} keys to none: **${fixed(e2e.ratio, 2)}×**; to one key: **${fixed(e2e.ratioToOneKey, 2)}×** ` +
        `(an empty repository skips query encoding and retrieval; from one key on, every query pays the query encoder, so the second ratio is what the repository's size costs). ${e2e.hitsWithKeys} of ${e2e.probes} probes retrieved a random key.`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
