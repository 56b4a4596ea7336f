/** A fraction in [0, 1] as a percentage with one decimal, rounding halves up (0.8765 → "87.7"). */
export function formatPercent(fraction: number): string {
  // toPrecision(12) removes binary noise such as 87.64999999999999 before rounding to one decimal.
  const percent = Number((fraction * 100).toPrecision(12));
  return (Math.round(percent * 10) / 10).toFixed(1);
}

/** Seconds as milliseconds: one decimal from 1 ms, two significant digits below, whole numbers from 100 ms (0.000123 → "0.12", 0.031 → "31.0", 1.5 → "1,500"). */
export function formatMilliseconds(seconds: number): string {
  const ms = seconds * 1000;
  if (ms === 0) return '0';
  if (ms >= 100) return Math.round(ms).toLocaleString('en-US');
  if (ms >= 1) return ms.toFixed(1);
  return Number(ms.toPrecision(2)).toString();
}

/** A ratio such as an overhead: "×1.23". */
export function formatRatio(ratio: number): string {
  return `×${ratio >= 100 ? Math.round(ratio).toLocaleString('en-US') : ratio.toFixed(2)}`;
}

/** A parameter count in the usual short form (6738415616 → "6.74B"). */
export function formatParameterCount(count: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, unit] of units) {
    if (count >= size) return `${Number((count / size).toPrecision(3))}${unit}`;
  }
  return String(count);
}

/** An integer with thousands separators (10000 → "10,000"). */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** An ISO date as "2025-01-31 14:05 UTC"; other strings unchanged. */
export function formatDate(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Display names of known benchmark and RIPE type keys; others shown as written, underscores as spaces. */
const DISPLAY_NAMES: Record<string, string> = {
  csqa: 'CSQA',
  mmlu: 'MMLU',
  anli: 'ANLI',
  squad2: 'SQuAD-2',
  'squad-2': 'SQuAD-2',
  squad_v2: 'SQuAD-2',
  gsm8k: 'GSM8K',
  hellaswag: 'HellaSwag',
  copa: 'COPA',
};

export function displayName(key: string): string {
  return DISPLAY_NAMES[key.toLowerCase()] ?? key.replace(/_/g, ' ');
}
