import path from 'node:path';
import { InvalidInputError, MissingArtifactError, type CausalLanguageModel } from '@recipe-kit/core';
import type { EditorSettings } from '../../editors/editor-registry.js';
import { GradientDecompositionNetwork, type HypernetworkMethod } from './gradient-decomposition-network.js';

/**
 * The trained hypernetwork for `model`: `--checkpoint DIR`, else `<model>/<method>` (like RECIPE's
 * `<model>/recipe`). Missing → MissingArtifactError (the main job skips the editor); trained for
 * another shape → a clear error.
 */
export async function loadTrainedHypernetwork(model: CausalLanguageModel, settings: EditorSettings, method: HypernetworkMethod): Promise<GradientDecompositionNetwork> {
  const directory = settings.checkpoint ?? (settings.modelDirectory ? path.join(settings.modelDirectory, method) : undefined);
  if (!directory) {
    throw new MissingArtifactError(`The ${method} editor needs a trained hypernetwork, and no model directory or checkpoint was given.`, `Pass --checkpoint DIR (written by recipe-kit train-${method}).`);
  }
  const network = await GradientDecompositionNetwork.load(directory, method);
  try {
    network.checkModel(model, directory);
  } catch (error) {
    network.dispose();
    throw error;
  }
  return network;
}

/** `--editor-option` keys the hypernetwork editors understand. */
export const HYPERNETWORK_OPTION_KEYS = ['unreachable-targets'] as const;

/** `unreachable-targets=skip` counts an edit towards a target the model cannot output as made (no change); `error` (default) refuses it. */
export function hypernetworkEditorOptions(settings: EditorSettings, method: HypernetworkMethod): { skipUnreachableTargets: boolean } {
  const value = settings.options?.['unreachable-targets'] ?? 'error';
  if (value !== 'skip' && value !== 'error') {
    throw new InvalidInputError(`The ${method} option unreachable-targets is "${value}".`, 'Use --editor-option unreachable-targets=skip or =error.');
  }
  return { skipUnreachableTargets: value === 'skip' };
}
