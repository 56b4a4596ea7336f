import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRandom, InvalidCheckpointError, InvalidInputError, MissingArtifactError, readSafetensors, writeSafetensors, type CausalLanguageModel, type NamedTensor } from '@recipe-kit/core';
import { RunningNormalizer } from './running-normalizer.js';

export type HypernetworkMethod = 'mend' | 'malmen';

export interface HypernetworkConfig {
  method: HypernetworkMethod;
  /** The LLM the network was trained for (`llama`, `gptj`) and its edited weights' shape. */
  architecture: string;
  /** Width of the edited weight's input: the MLP keys (intermediate size). */
  inputSize: number;
  /** Width of its output: the hidden size. */
  outputSize: number;
  /** Edited layers (their MLP output projections); the network's "mode" is the index in this list. */
  layers: number[];
  /** Rank of each block's low-rank product (min(rank, inputSize + outputSize) is used). */
  rank: number;
  blocks: number;
  /** MEND scales and shifts before the ReLU, MALMEN after it. */
  modulation: 'before-activation' | 'after-activation';
  /** Method scalars per edited layer with their initial values (MEND: edit_lr; MALMEN: edit_lr, log_lambda). */
  scalars: Record<string, number>;
  seed: number;
}

let networkCount = 0;
const FORMAT = 'recipe-kit/gradient-decomposition-network@1';
const CONFIG_FILE = 'hypernetwork.json';
const WEIGHTS_FILE = 'hypernetwork.safetensors';

/** Standard normal samples from the project's seeded PRNG (Box–Muller), the same on every backend. */
function normals(count: number, seed: number, scale: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/**
 * The gradient-decomposition hypernetwork shared by MEND and MALMEN (spec §6.2, §7.2). Per token
 * row it maps the edited layer's input u [in] and output gradient δ [out], normalised by running
 * statistics, through residual low-rank blocks h ← h + act(U(V h) + b) with per-layer scale/shift
 * (act = ReLU, the identity in the last block), and splits the result back into ũ [in] and δ̃ [out].
 * The last block's U starts at 0 and the others' near it, so the network starts (nearly) as the
 * identity on normalised rows. One network serves every edited layer (they share one shape).
 */
export class GradientDecompositionNetwork {
  readonly variables = new Map<string, tf.Variable>();
  normalizer: RunningNormalizer;

  constructor(readonly config: HypernetworkConfig) {
    const width = config.inputSize + config.outputSize;
    const rank = Math.min(config.rank, width);
    const modes = config.layers.length;
    this.normalizer = new RunningNormalizer(width);
    networkCount++;
    const add = (name: string, initial: () => tf.Tensor): void => {
      // tfjs variable names are global: a counter keeps two networks (trainer and editor) apart.
      // The initial value is a temporary: tidy frees it, the variable (never tidied) stays.
      this.variables.set(name, tf.tidy(() => tf.variable(initial(), true, `${config.method}/${networkCount}/${name}`)));
    };
    for (let block = 0; block < config.blocks; block++) {
      add(`block.${block}.down`, () => tf.tensor2d(normals(width * rank, config.seed * 7919 + block, 1 / Math.sqrt(width)), [width, rank]));
      // ReLU has no gradient at 0, so a ReLU block whose U starts at exactly 0 (the reference's
      // identity init) never leaves it; a small random U keeps it near the identity and trainable.
      const last = block === config.blocks - 1;
      add(`block.${block}.up`, () => (last ? tf.zeros([rank, width]) : tf.tensor2d(normals(rank * width, config.seed * 7919 + 101 + block, 1e-3), [rank, width])));
      add(`block.${block}.bias`, () => tf.zeros([width]));
      add(`block.${block}.scale`, () => tf.ones([modes, width]));
      add(`block.${block}.shift`, () => tf.zeros([modes, width]));
    }
    for (const [name, value] of Object.entries(config.scalars)) add(`scalar.${name}`, () => tf.fill([modes], value));
  }

  /** The per-layer scalar `name` at edited-layer index `mode` (a rank-0 slice, differentiable). */
  scalar(name: string, mode: number): tf.Scalar {
    const variable = this.variables.get(`scalar.${name}`);
    if (!variable) throw new InvalidInputError(`The ${this.config.method} hypernetwork has no scalar "${name}".`, `Its scalars: ${Object.keys(this.config.scalars).join(', ')}.`);
    return tf.squeeze(tf.slice(variable, [mode], [1])) as tf.Scalar;
  }

  /** The mode (edited-layer index) of model layer `layer`. */
  mode(layer: number): number {
    const mode = this.config.layers.indexOf(layer);
    if (mode < 0) throw new InvalidInputError(`Layer ${layer} is not edited by this hypernetwork (layers ${this.config.layers.join(', ')}).`, 'Edit one of its layers.');
    return mode;
  }

  /** Adds rows of [u; δ] (u [n, in], δ [n, out], as host arrays) to the running statistics (training only). */
  observe(keys: Float32Array, gradients: Float32Array): void {
    const { inputSize, outputSize } = this.config;
    const n = keys.length / inputSize;
    const rows = new Float32Array(n * (inputSize + outputSize));
    for (let r = 0; r < n; r++) {
      rows.set(keys.subarray(r * inputSize, (r + 1) * inputSize), r * (inputSize + outputSize));
      rows.set(gradients.subarray(r * outputSize, (r + 1) * outputSize), r * (inputSize + outputSize) + inputSize);
    }
    this.normalizer.update(rows);
  }

  /** (ũ [n, in], δ̃ [n, out]) for rows u [n, in], δ [n, out] of edited layer index `mode`. */
  apply(keys: tf.Tensor2D, gradients: tf.Tensor2D, mode: number): { keys: tf.Tensor2D; gradients: tf.Tensor2D } {
    return tf.tidy(() => {
      let h = this.normalizer.normalize(tf.concat([keys, gradients], 1)); // [n, in + out]
      for (let block = 0; block < this.config.blocks; block++) {
        const v = (part: string): tf.Variable => this.variables.get(`block.${block}.${part}`) as tf.Variable;
        const row = (part: string): tf.Tensor => tf.slice(v(part), [mode, 0], [1, -1]); // [1, in + out]
        const pre = tf.add(tf.matMul(tf.matMul(h, v('down')), v('up')), v('bias'));
        // The last block is linear, as in MEND's IDMLP (ReLU only on hidden layers).
        const activation = (x: tf.Tensor): tf.Tensor => (block === this.config.blocks - 1 ? x : tf.relu(x));
        const activated =
          this.config.modulation === 'before-activation' ? activation(tf.add(tf.mul(pre, row('scale')), row('shift'))) : tf.add(tf.mul(activation(pre), row('scale')), row('shift'));
        h = tf.add(h, activated) as tf.Tensor2D;
      }
      const { inputSize, outputSize } = this.config;
      return { keys: tf.slice(h, [0, 0], [-1, inputSize]) as tf.Tensor2D, gradients: tf.slice(h, [0, inputSize], [-1, outputSize]) as tf.Tensor2D };
    });
  }

  parameterCount(): number {
    return [...this.variables.values()].reduce((sum, v) => sum + v.size, 0);
  }

  /** Refuses a model whose edited weights do not have the shape this network was trained for. */
  checkModel(model: CausalLanguageModel, source: string): void {
    const { architecture, inputSize, outputSize, layers, method } = this.config;
    const dims = model.dimensions;
    if (model.architecture !== architecture || dims.intermediateSize !== inputSize || dims.hiddenSize !== outputSize || Math.max(...layers) >= dims.numLayers) {
      throw new InvalidInputError(
        `${source} is a ${method} hypernetwork for ${architecture} (intermediate ${inputSize}, hidden ${outputSize}, layers ${layers.join(', ')}), but the model is ${model.architecture} (intermediate ${dims.intermediateSize}, hidden ${dims.hiddenSize}, ${dims.numLayers} layers).`,
        `Train one for this model with recipe-kit train-${method} --model <model>.`,
      );
    }
  }

  /** Writes hypernetwork.json (config, normalizer statistics) and hypernetwork.safetensors. */
  async save(directory: string, extra: Record<string, unknown> = {}): Promise<void> {
    await mkdir(directory, { recursive: true });
    const tensors: [string, NamedTensor][] = [...this.variables].map(([name, v]) => [name, { shape: v.shape, data: v.dataSync() as Float32Array }]);
    await writeSafetensors(path.join(directory, WEIGHTS_FILE), tensors);
    const file = path.join(directory, CONFIG_FILE);
    await writeFile(`${file}.tmp`, `${JSON.stringify({ format: FORMAT, config: this.config, normalizer: this.normalizer.toJSON(), ...extra })}\n`);
    await rename(`${file}.tmp`, file);
  }

  /** Reads a network written by `save`; `method` must match. Throws MissingArtifactError when absent. */
  static async load(directory: string, method: HypernetworkMethod): Promise<GradientDecompositionNetwork> {
    const file = path.join(directory, CONFIG_FILE);
    if (!existsSync(file)) {
      throw new MissingArtifactError(`No trained ${method.toUpperCase()} hypernetwork at ${directory}.`, `Pass --checkpoint DIR (written by recipe-kit train-${method}), or train one into <model>/${method}.`);
    }
    const saved = JSON.parse(await readFile(file, 'utf8')) as { format?: unknown; config?: HypernetworkConfig; normalizer?: unknown };
    if (saved.format !== FORMAT || !saved.config) throw new InvalidCheckpointError(`${file} is not a ${FORMAT} file.`, `Use a directory written by recipe-kit train-${method}.`);
    if (saved.config.method !== method) {
      throw new InvalidCheckpointError(`${directory} holds a ${saved.config.method} hypernetwork, not a ${method} one.`, `Point the ${method} editor at a directory written by recipe-kit train-${method}.`);
    }
    const network = new GradientDecompositionNetwork(saved.config);
    network.normalizer = RunningNormalizer.fromJSON(saved.normalizer, file);
    const tensors = await readSafetensors(path.join(directory, WEIGHTS_FILE));
    for (const [name, variable] of network.variables) {
      const tensor = tensors.get(name);
      if (!tensor || tensor.shape.join() !== variable.shape.join()) {
        network.dispose();
        throw new InvalidCheckpointError(`${path.join(directory, WEIGHTS_FILE)} has no ${name} of shape [${variable.shape.join(', ')}].`, `Retrain with recipe-kit train-${method}.`);
      }
      tf.tidy(() => variable.assign(tf.tensor(tensor.data, tensor.shape)));
    }
    return network;
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}
