import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';
import { loadEditDataset } from '../../datasets/index.js';
import { BagOfWordsEncoder } from '../lte/bag-of-words-encoder.js';
import { FactMemory } from '../lte/fact-memory.js';
import { calibrateRaseThresholds, type RaseCalibration } from './calibrate-rase-thresholds.js';
import type { RaseThresholds } from './rase-decision-rule.js';

/** Files of RASE's artefact directory (`<model>/rase`). */
export const RASE_ENCODER_FILE = 'fact-encoder.json';
export const RASE_CALIBRATION_FILE = 'calibration.json';

export interface CalibrateRaseOptions {
  dataset: string;
  data: string;
  split?: 'train' | 'eval';
  /** Training edits stored while calibrating (default 1000, the largest T of the tables). */
  limit?: number;
  topK?: number;
  out: string;
  command?: string;
}

/** JSON has no infinity: a threshold that never fires ("DIFF rule off") is written as null. */
export function thresholdsToJson(thresholds: RaseThresholds): Record<string, number | null> {
  return Object.fromEntries(Object.entries(thresholds).map(([key, value]) => [key, Number.isFinite(value) ? value : null]));
}

export function thresholdsFromJson(json: unknown, source: string): RaseThresholds {
  const value = json as Record<string, unknown> | null;
  const read = (key: keyof RaseThresholds): number => {
    const raw = value?.[key];
    if (raw === null) return Number.POSITIVE_INFINITY;
    if (typeof raw !== 'number') throw new InvalidInputError(`${source} has no numeric threshold "${key}".`, 'Run recipe-kit calibrate-rase again.');
    return raw;
  };
  return { max: read('max'), diff: read('diff'), std: read('std') };
}

/**
 * `recipe-kit calibrate-rase`: RASE's prerequisites for our encoder, from a training split (never
 * the eval edits): the fact encoder's IDF (fitted on the training prompts) and the decision rule's
 * thresholds recalibrated on the training edits (spec §11.3), with the paper's thresholds measured
 * on the same queries for comparison. Writes fact-encoder.json, calibration.json and README.md.
 */
export async function calibrateRase(options: CalibrateRaseOptions): Promise<RaseCalibration> {
  const requests = await loadEditDataset(options.dataset, options.data, { split: options.split ?? 'train', limit: options.limit ?? 1000 });
  if (requests.length === 0) throw new InvalidInputError(`${options.data} has no edits to calibrate on.`, 'Point --data at a training split.');
  const encoder = BagOfWordsEncoder.fit(requests.flatMap((request) => [request.prompt, ...request.generality.map((probe) => probe.prompt), ...request.locality.map((probe) => probe.prompt)]));
  const memory = new FactMemory(encoder);
  await memory.add(requests);
  const calibration = calibrateRaseThresholds(memory, requests, options.topK ?? 5);
  memory.dispose();
  await mkdir(options.out, { recursive: true });
  await writeFile(path.join(options.out, RASE_ENCODER_FILE), `${JSON.stringify(encoder.toJson())}\n`);
  const record = {
    command: options.command ?? null,
    dataset: { name: options.dataset, path: path.resolve(options.data), split: options.split ?? 'train', edits: requests.length },
    ...calibration,
    thresholds: thresholdsToJson(calibration.thresholds),
    date: new Date().toISOString(),
  };
  await writeFile(path.join(options.out, RASE_CALIBRATION_FILE), `${JSON.stringify(record, null, 2)}\n`);
  const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const shown = (t: RaseThresholds): string => `MAX > ${t.max}, or DIFF > ${Number.isFinite(t.diff) ? t.diff : '∞ (off)'} and STD > ${t.std}`;
  await writeFile(
    path.join(options.out, 'README.md'),
    `# RASE artefacts: ${path.basename(path.dirname(path.resolve(options.out)))}/${path.basename(options.out)}

RASE's fact retriever (an IDF-weighted hashed bag of words, fact-encoder.json) and its decision rule's
thresholds recalibrated for it (calibration.json). Used by \`recipe-kit eval --editor rase --model <parent>\`;
the ROME patches themselves are computed at edit time on the unedited model.

## Reproduce

\`\`\`bash
${options.command ?? '(command not recorded)'}
\`\`\`

| | |
|---|---|
| calibration data | ${options.dataset} \`${path.basename(options.data)}\` (${options.split ?? 'train'}), ${requests.length} edits stored, top-${calibration.topK} |
| queries | ${calibration.positives} edit prompts and rephrases (must fire on their own fact), ${calibration.negatives} locality prompts (must not fire) |
| recalibrated rule | ${shown(calibration.thresholds)}: TPR ${percent(calibration.calibrated.truePositiveRate)}, TNR ${percent(calibration.calibrated.trueNegativeRate)} |
| the paper's rule | ${shown(calibration.paper.thresholds)}: TPR ${percent(calibration.paper.truePositiveRate)}, TNR ${percent(calibration.paper.trueNegativeRate)} |
`,
  );
  return calibration;
}
