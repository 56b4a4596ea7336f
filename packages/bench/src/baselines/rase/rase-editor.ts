import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  InvalidInputError,
  readSafetensors,
  UnsupportedCapabilityError,
  writeSafetensors,
  type CausalLanguageModel,
  type ContinuationScore,
  type EditRequest,
  type Editor,
  type QueryContinuation,
} from '@recipe-kit/core';
import { FactMemory, type RetrievedFact } from '../lte/fact-memory.js';
import type { BagOfWordsEncoder } from '../lte/bag-of-words-encoder.js';
import { computeRomePatch, type RomePatch } from '../rome/compute-rome-patch.js';
import type { RomeSettings } from '../rome/rome-settings.js';
import { prepareEditRows } from '../shared/prepare-edit-rows.js';
import { raseFires, retrievalStatistics, type RaseThresholds } from './rase-decision-rule.js';

export interface RaseEditorOptions {
  /** The unedited model: RASE never changes it for longer than one query group. */
  model: CausalLanguageModel;
  encoder: BagOfWordsEncoder;
  /** The decision rule's thresholds (recalibrated for the encoder: calibration.json). */
  thresholds: RaseThresholds;
  /** Scores the rule reads (K = 5 in the paper, 6 in its eval.py). */
  topK?: number;
  /** ROME's settings for the patches (layer round(0.17·L)). */
  rome: RomeSettings;
  /** ROME's context templates (first "{}"). */
  templates: readonly string[];
  /** C⁻¹ at the ROME layer, or null without mom2 adjustment. */
  inverseSecondMoment: Float64Array | null;
}

/** Where a query went: the fact whose patch was applied, or none (the unedited model answered). */
export interface RaseRouting {
  fired: boolean;
  fact: RetrievedFact | null;
}

const STATE_FILE = 'rase-editor.json';
const PATCHES_FILE = 'rase-patches.safetensors';

/**
 * RASE with ROME as its editor (Han et al., Findings of EMNLP 2023; "R-ROME" in RECIPE's tables): each
 * edit's ROME patch is computed on the unedited model and stored with its fact in a fact–patch
 * memory; the weights never accumulate edits. A query retrieves its top-K facts; when RASE's rule
 * fires (MAX > t or DIFF > t_d and STD > t_s) the top fact's rank-one patch is applied for that
 * query only, otherwise the unedited model answers (bit-identical).
 */
export class RaseEditor implements Editor {
  readonly name = 'rase';
  readonly model: CausalLanguageModel;
  readonly topK: number;
  private readonly memory: FactMemory;
  private readonly patches = new Map<string, Pick<RomePatch, 'weightName' | 'u' | 'right'>>();
  private edits = 0;

  constructor(private readonly options: RaseEditorOptions) {
    this.model = options.model;
    if (!options.model.capabilities.editableWeights) {
      throw new UnsupportedCapabilityError(`RASE applies ROME patches, but the ${options.model.architecture} adapter cannot replace weights.`, 'Use a model with editable weights (the LLaMA-2 and GPT-J adapters).');
    }
    this.topK = options.topK ?? 5;
    if (!Number.isInteger(this.topK) || this.topK < 1) throw new InvalidInputError(`RASE top-k is ${String(options.topK)}.`, 'Pass a positive integer (the paper uses 5).');
    this.memory = new FactMemory(options.encoder);
  }

  get editCount(): number {
    return this.edits;
  }

  get thresholds(): RaseThresholds {
    return this.options.thresholds;
  }

  async edit(requests: readonly EditRequest[]): Promise<void> {
    // Every request is checked (subject in prompt, target, context) before anything is stored.
    for (const request of requests) prepareEditRows(this.model, request, ['{}']);
    for (const request of requests) {
      const patch = computeRomePatch(this.model, request, this.options.rome, this.options.templates, this.options.inverseSecondMoment);
      this.patches.set(request.id, { weightName: patch.weightName, u: patch.u, right: patch.right });
    }
    await this.memory.add(requests);
    this.edits += requests.length;
  }

  async restore(): Promise<void> {
    await this.memory.clear();
    this.patches.clear();
    this.edits = 0;
  }

  /** Where a query is routed: RASE's rule on its top-K retrieval scores. */
  route(query: string): RaseRouting {
    const hits = this.memory.search(query, this.topK);
    if (hits.length === 0) return { fired: false, fact: null };
    const fired = raseFires(retrievalStatistics(hits.map((hit) => hit.score)), this.options.thresholds);
    return { fired, fact: fired ? (hits[0] as RetrievedFact) : null };
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    const groups = new Map<string | null, number[]>();
    requests.forEach((request, index) => {
      const id = this.route(request.queryText).fact?.id ?? null;
      groups.set(id, [...(groups.get(id) ?? []), index]);
    });
    const scores: ContinuationScore[] = new Array(requests.length);
    for (const [id, indices] of groups) {
      const group = indices.map((index) => requests[index] as QueryContinuation);
      const result = id === null ? this.model.scoreContinuations(group) : this.withPatch(id, () => this.model.scoreContinuations(group));
      indices.forEach((index, i) => (scores[index] = result[i] as ContinuationScore));
    }
    return scores;
  }

  /** Runs `score` with W + u ⊗ right in place of W, then puts the original tensor back (bit-identical). */
  private withPatch<T>(id: string, score: () => T): T {
    const patch = this.patches.get(id);
    if (!patch) throw new InvalidInputError(`No patch is stored for fact ${id}.`, 'Edit it before querying (the memory and patches come from one edit call).');
    const original = this.model.getWeight(patch.weightName);
    const patched = tf.tidy(() => tf.add(original, tf.outerProduct(tf.tensor1d(patch.u), tf.tensor1d(patch.right))));
    this.model.setWeight(patch.weightName, patched, { keepPrevious: true });
    try {
      return score();
    } finally {
      this.model.setWeight(patch.weightName, original);
    }
  }

  async save(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    await this.memory.save(directory);
    const tensors: [string, { shape: number[]; data: Float32Array }][] = [];
    for (const [id, patch] of this.patches) {
      tensors.push([`${id}.u`, { shape: [patch.u.length], data: patch.u }], [`${id}.right`, { shape: [patch.right.length], data: patch.right }]);
    }
    await writeSafetensors(path.join(directory, PATCHES_FILE), tensors);
    const weightNames = Object.fromEntries([...this.patches].map(([id, patch]) => [id, patch.weightName]));
    await writeFile(path.join(directory, STATE_FILE), `${JSON.stringify({ editor: this.name, editCount: this.edits, thresholds: this.options.thresholds, topK: this.topK, weightNames })}\n`);
  }

  async load(directory: string): Promise<void> {
    const file = path.join(directory, STATE_FILE);
    const state = JSON.parse(await readFile(file, 'utf8')) as { editor?: unknown; editCount?: unknown; weightNames?: Record<string, string> };
    if (state.editor !== this.name || typeof state.editCount !== 'number' || typeof state.weightNames !== 'object') {
      throw new InvalidInputError(`${file} is not a saved state of the "${this.name}" editor.`, 'Load a directory written by this editor\'s save().');
    }
    const tensors = await readSafetensors(path.join(directory, PATCHES_FILE));
    await this.memory.load(directory);
    this.patches.clear();
    for (const [id, weightName] of Object.entries(state.weightNames ?? {})) {
      const [u, right] = [tensors.get(`${id}.u`), tensors.get(`${id}.right`)];
      if (!u || !right) throw new InvalidInputError(`${PATCHES_FILE} in ${directory} has no patch for ${id}.`, 'The saved state is incomplete: save it again.');
      this.patches.set(id, { weightName, u: u.data, right: right.data });
    }
    this.edits = state.editCount;
  }

  dispose(): void {
    this.memory.dispose();
    this.patches.clear();
  }
}
