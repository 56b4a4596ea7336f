import type { ForwardReport, ForwardRow } from './forward-report.js';

/** wasm ÷ cpu for one model measured on both backends in the same run. */
export interface ForwardRatio {
  model: string;
  wasmLayers: number;
  cpuLayers: number;
  /**
   * `tokens/s` when both ran the same depth; `layer-tokens/s` (tokens/s × layers run) when they did
   * not, which ignores the embedding and head and so slightly favours the deeper run.
   */
  basis: 'tokens/s' | 'layer-tokens/s';
  prefill: number | null;
  decode: number | null;
  /** Ratio of estimated matmul GFLOP/s (depth-independent). */
  prefillGflops: number | null;
  decodeGflops: number | null;
  peakRss: number | null;
}

function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

export function forwardRatios(rows: readonly ForwardRow[]): ForwardRatio[] {
  const ratios: ForwardRatio[] = [];
  const models = [...new Set(rows.map((row) => row.model))];
  for (const model of models) {
    const wasm = rows.find((row) => row.model === model && row.backend === 'wasm' && row.status === 'measured');
    const cpu = rows.find((row) => row.model === model && row.backend === 'cpu' && row.status === 'measured');
    if (!wasm || !cpu || wasm.layersRun === null || cpu.layersRun === null) continue;
    const sameDepth = wasm.layersRun === cpu.layersRun;
    ratios.push({
      model,
      wasmLayers: wasm.layersRun,
      cpuLayers: cpu.layersRun,
      basis: sameDepth ? 'tokens/s' : 'layer-tokens/s',
      prefill: sameDepth ? ratio(wasm.prefillTokensPerSecond, cpu.prefillTokensPerSecond) : ratio(wasm.prefillLayerTokensPerSecond, cpu.prefillLayerTokensPerSecond),
      decode: sameDepth ? ratio(wasm.decodeTokensPerSecond, cpu.decodeTokensPerSecond) : ratio(wasm.decodeLayerTokensPerSecond, cpu.decodeLayerTokensPerSecond),
      prefillGflops: ratio(wasm.prefillGflopsPerSecond, cpu.prefillGflopsPerSecond),
      decodeGflops: ratio(wasm.decodeGflopsPerSecond, cpu.decodeGflopsPerSecond),
      peakRss: ratio(wasm.peakRssMiB, cpu.peakRssMiB),
    });
  }
  return ratios;
}

function number(value: number | null, digits = 1): string {
  if (value === null) return '—';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(Math.min(digits, 1));
  return value.toFixed(Math.max(digits, 2));
}

function parameters(value: number | null): string {
  if (value === null) return '—';
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} B`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)} M`;
  return `${(value / 1e3).toFixed(0)} K`;
}

function times(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(2)}×`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function layers(row: ForwardRow): string {
  if (row.layersRun === null) return '—';
  const text = `${row.layersRun}/${row.layersTotal ?? row.layersRun}`;
  return row.truncatedDepth ? `**${text} (truncated)**` : text;
}

/** The report as Markdown: machine, one table row per (model × backend), depth-normalised rows, wasm/cpu ratios. */
export function renderForwardMarkdown(report: ForwardReport): string {
  const { machine } = report;
  const lines: string[] = [
    `# Forward benchmark — ${report.date}`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB RAM, ${machine.platform}/${machine.arch}, Node ${machine.nodeVersion}, tfjs ${machine.tfjsVersion}.`,
    `Commit: ${report.gitCommit ?? 'unknown'}${report.gitDirty ? ' (working tree had uncommitted changes)' : ''}. Total wall time: ${report.totalSeconds.toFixed(0)} s.`,
    `Load average (1/5/15 min) at start ${report.loadAverageStart.join(' / ')}, at end ${report.loadAverageEnd.join(' / ')} — other work on the machine skews timings.`,
    '',
    'Each row ran in its own Node process (fresh tfjs, its own peak RSS). Prefill = `forward` over the prompt, logits read back, after a warm-up run; median of the runs.',
    'Decode = greedy `generate`, timing only the decode steps (first token → last, via `onToken`); median of the runs. float32 weights throughout.',
    '',
    '| model | backend | layers run/total | parameters run | prompt | prefill tok/s | decode steps | decode tok/s | peak RSS MiB | tfjs MiB | load s | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of report.rows) {
    const prompt = row.status === 'measured' ? `${row.promptTokens} ×${row.prefillRuns}` : String(row.promptTokens);
    const decode = row.status === 'measured' ? `${row.decodeTokens} ×${row.decodeRuns} (after ${row.decodePromptTokens})` : String(row.decodeTokens);
    lines.push(
      `| ${row.model} | ${row.backend} | ${layers(row)} | ${parameters(row.parameters)} | ${prompt} | ${number(row.prefillTokensPerSecond)} | ${decode} | ${number(row.decodeTokensPerSecond)} | ${number(row.peakRssMiB, 0)} | ${number(row.tfjsMiB, 0)} | ${number(row.loadSeconds)} | ${cell(row.note)} |`,
    );
  }

  const measured = report.rows.filter((row) => row.status === 'measured');
  lines.push(
    '',
    '## Normalised throughput',
    '',
    'layer-tokens/s = tokens/s × layers run (per-layer-normalised; use it to compare runs of different depth — it ignores the embedding and head).',
    'GFLOP/s = tokens/s × 2 × matmul parameters per token (projections and head; attention scores ignored): an estimate of the arithmetic rate.',
    '',
    '| model | backend | layers run/total | prefill layer-tokens/s | decode layer-tokens/s | prefill GFLOP/s | decode GFLOP/s | wasm heap MiB |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const row of measured) {
    lines.push(
      `| ${row.model} | ${row.backend} | ${layers(row)} | ${number(row.prefillLayerTokensPerSecond)} | ${number(row.decodeLayerTokensPerSecond)} | ${number(row.prefillGflopsPerSecond, 2)} | ${number(row.decodeGflopsPerSecond, 2)} | ${number(row.wasmHeapMiB, 0)} |`,
    );
  }

  const truncated = measured.filter((row) => row.truncatedDepth);
  if (truncated.length > 0) {
    lines.push('');
    for (const row of truncated) {
      lines.push(
        `**${row.model} on ${row.backend} is a truncated-depth measurement**: ${row.layersRun} of ${row.layersTotal} layers (${parameters(row.parameters)} of ${parameters(row.parametersFull)} parameters). Its tokens/s are NOT the full model's; compare it through the normalised columns.`,
      );
    }
  }

  const ratios = forwardRatios(report.rows);
  lines.push('', '## wasm ÷ cpu (same run)', '');
  if (ratios.length === 0) {
    lines.push('No model was measured on both wasm and cpu in this run.');
  } else {
    lines.push('| model | layers wasm/cpu | basis | prefill | decode | prefill GFLOP/s | decode GFLOP/s | peak RSS |', '|---|---|---|---|---|---|---|---|');
    for (const r of ratios) {
      lines.push(
        `| ${r.model} | ${r.wasmLayers}/${r.cpuLayers} | ${r.basis} | ${times(r.prefill)} | ${times(r.decode)} | ${times(r.prefillGflops)} | ${times(r.decodeGflops)} | ${times(r.peakRss)} |`,
      );
    }
    if (ratios.some((r) => r.basis === 'layer-tokens/s')) {
      lines.push('', 'Where the depths differ, the throughput ratios are per-layer-normalised and the peak RSS ratio compares different model sizes.');
    }
  }
  lines.push('');
  return lines.join('\n');
}
