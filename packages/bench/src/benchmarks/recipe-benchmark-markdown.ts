import type { MachineInfo } from '../evaluation/provenance.js';
import type { RecipeMeasurement, RecipeSizeResult } from './recipe-benchmark-measure.js';

/** Everything `pnpm bench:recipe` writes: the measurement and where it came from. */
export interface RecipeBenchmarkReport extends RecipeMeasurement {
  benchmark: 'recipe';
  /** ISO 8601 time the run started. */
  date: string;
  command: string;
  gitCommit: string | null;
  /** Whether the working tree had uncommitted changes (null when git is unavailable). */
  gitDirty: boolean | null;
  machine: MachineInfo;
  /** The tensor backend line from `selectBackend`. */
  backend: string;
  tfjsVersion: string;
  model: string;
  checkpoint: string;
  /** The checkpoint's recipe-encoder.json `heads` and `fingerprint`, where readable. */
  checkpointConfig: Record<string, unknown> | null;
  editFiles: string[];
  /** Requests read from the edit files (the rest of the repository is clones). */
  datasetRequests: number;
  /** os.loadavg() (1, 5, 15 min) at start and end: other work on the machine skews timings. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
  totalSeconds: number;
}

function number(value: number | null, digits = 2): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(digits);
}

function times(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—';
}

function spread(values: readonly number[]): string {
  if (values.length === 0) return '—';
  return `${number(Math.min(...values), 3)}–${number(Math.max(...values), 3)}`;
}

function row(result: RecipeSizeResult): string {
  const { singleEdit: edit, query } = result;
  return `| ${result.size.toLocaleString('en-US')} | ${result.editCount.toLocaleString('en-US')} | ${number(edit.meanMs)} | ${number(edit.p50Ms)} | ${number(edit.p99Ms)} | ${number(result.fill.msPerEdit)} | ${number(query.uneditedMsPerProbe, 3)} | ${number(query.recipeMsPerProbe, 3)} | **${times(query.ratio)}** | ${number(query.retrievalMsPerProbe, 3)} | ${number(query.llmMsPerProbe, 3)} | ${(query.hitShare * 100).toFixed(0)}% | ${number(result.editCostInUneditedProbes, 1)} | ${number(result.memory.rssMiB, 0)} |`;
}

/** The report as Markdown: provenance, one table row per repository size, spreads and memory. */
export function renderRecipeMarkdown(report: RecipeBenchmarkReport): string {
  const { machine, settings } = report;
  const first = report.sizes[0];
  const lines: string[] = [
    `# RECIPE editing and query cost — ${report.date}`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.platform}, Node ${machine.node}. ${report.backend}.`,
    `Commit: ${report.gitCommit ?? 'unknown'}${report.gitDirty ? ' (working tree had uncommitted changes)' : ''}. Total wall time: ${report.totalSeconds.toFixed(0)} s.`,
    `Load average (1/5/15 min) at start ${report.loadAverageStart.join(' / ')}, at end ${report.loadAverageEnd.join(' / ')} — other work on the machine skews timings; read the ratios, which were measured side by side.`,
    `Model: \`${report.model}\`. RECIPE checkpoint: \`${report.checkpoint}\`. Edits: ${report.datasetRequests} from ${report.editFiles.map((file) => `\`${file}\``).join(', ')}${report.clonedRequests > 0 ? `, plus ${report.clonedRequests} clones with new ids (same texts)` : ''}.`,
    `Command: \`${report.command}\``,
    '',
    `One process, one repository grown through the sizes, after ${settings.warmupEdits} untimed warm-up edits (each retracted). At each size N: the repository is filled by \`edit\` calls of ${settings.fillBatchSize} requests, then ${settings.timedEdits} single-request \`edit([request])\` calls are timed (the last of the N edits; where N < ${settings.timedEdits}, each further timed edit follows an untimed retract of the newest, so N stays N).`,
    `Queries: ${first ? `${first.query.probes}` : settings.probes} probes (reliability, rephrase and neighbourhood prompts of up to ${settings.queryEdits} stored edits) scored by \`scoreInBatches\` in batches of ${settings.scoreBatchSize}, through RECIPE and through the unedited model (\`none\` editor) in alternating order, ${settings.repeats} timed passes each after a warm-up; medians. Retrieval = \`editor.retrieve\` alone on the same batches; LLM = RECIPE − retrieval.`,
    '',
    '| N | editCount | edit mean ms | edit p50 ms | edit p99 ms | batched fill ms/edit | unedited ms/probe | RECIPE ms/probe | RECIPE ÷ unedited | retrieval ms/probe | LLM ms/probe | hits | edit ÷ unedited probe | RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.sizes.map(row),
    '',
    '"edit ÷ unedited probe": one single-request edit costs this many unedited probe scorings (same run). "hits": probes that retrieved a stored fact and so ran with its prompt prefixed.',
    ...report.sizes
      .filter((result) => result.query.queryEdits < settings.queryEdits)
      .map((result) => `At N = ${result.size} the probes come from only ${result.query.queryEdits} stored edits (repeated to ${result.query.probes}: ${result.query.kinds.reliability} reliability, ${result.query.kinds.generality} rephrase, ${result.query.kinds.locality} neighbourhood), so that row's probe mix differs from the others.`),
    '',
    '## Spread and memory',
    '',
    '| N | RECIPE ms/probe (min–max) | unedited ms/probe (min–max) | retrieval ms/probe (min–max) | edit min–max ms | RSS MiB | V8 heap MiB | ArrayBuffers MiB | tfjs tensors | tfjs MiB | leaked tensors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.sizes.map(
      (result) =>
        `| ${result.size.toLocaleString('en-US')} | ${spread(result.query.recipeRuns)} | ${spread(result.query.uneditedRuns)} | ${spread(result.query.retrievalRuns)} | ${number(result.singleEdit.minMs)}–${number(result.singleEdit.maxMs)} | ${number(result.memory.rssMiB, 0)} | ${number(result.memory.heapUsedMiB, 0)} | ${number(result.memory.arrayBuffersMiB, 0)} | ${result.memory.tfjsTensors} | ${number(result.memory.tfjsMiB, 1)} | ${result.leakedTensors} |`,
    ),
    '',
    `Memory before the first edit: RSS ${number(report.memoryBefore.rssMiB, 0)} MiB, V8 heap ${number(report.memoryBefore.heapUsedMiB, 0)} MiB, ${report.memoryBefore.tfjsTensors} tfjs tensors (${number(report.memoryBefore.tfjsMiB, 1)} MiB). Memory is read right after filling, without a forced GC.`,
    '',
  ];
  return lines.join('\n');
}
