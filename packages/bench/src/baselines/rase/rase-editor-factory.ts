import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MissingArtifactError, type CausalLanguageModel } from '@recipe-kit/core';
import type { EditorSettings } from '../../editors/editor-registry.js';
import { BagOfWordsEncoder } from '../lte/bag-of-words-encoder.js';
import { romeInverse } from '../rome/rome-editor.js';
import { ROME_SETTING_KEYS, romeSettingsFromOptions } from '../rome/rome-editor-factory.js';
import { baselineLayers } from '../shared/baseline-layers.js';
import { contextTemplatesFromOptions } from '../shared/context-templates.js';
import { editorOption } from '../shared/editor-option.js';
import { editorSecondMoments } from '../shared/editor-second-moments.js';
import { RASE_CALIBRATION_FILE, RASE_ENCODER_FILE, thresholdsFromJson } from './calibrate-rase.js';
import { RaseEditor } from './rase-editor.js';

/** Option keys: the rule's overrides, top-k, and ROME's settings for the patches. */
export const RASE_OPTION_KEYS = ['top-k', 'max', 'diff', 'std', 'layer', ...ROME_SETTING_KEYS] as const;

/** A RaseEditor with the encoder and thresholds of `--checkpoint` (default `<model>/rase`, written by calibrate-rase). */
export async function createRaseEditorFromArtefacts(model: CausalLanguageModel, settings: EditorSettings): Promise<RaseEditor> {
  const directory = settings.checkpoint ?? (settings.modelDirectory ? path.join(settings.modelDirectory, 'rase') : undefined);
  if (!directory || !existsSync(path.join(directory, RASE_ENCODER_FILE)) || !existsSync(path.join(directory, RASE_CALIBRATION_FILE))) {
    throw new MissingArtifactError(
      `No RASE calibration${directory ? ` at ${directory}` : ''}.`,
      'Run recipe-kit calibrate-rase --model MODEL --dataset … --data TRAINING_SPLIT (writes <model>/rase), or pass --checkpoint DIR.',
    );
  }
  const options = settings.options ?? {};
  const encoder = await BagOfWordsEncoder.load(path.join(directory, RASE_ENCODER_FILE));
  const calibrationFile = path.join(directory, RASE_CALIBRATION_FILE);
  const calibrated = thresholdsFromJson((JSON.parse(await readFile(calibrationFile, 'utf8')) as { thresholds?: unknown }).thresholds, calibrationFile);
  const thresholds = {
    max: editorOption.number('rase', options, 'max', calibrated.max),
    diff: editorOption.number('rase', options, 'diff', calibrated.diff),
    std: editorOption.number('rase', options, 'std', calibrated.std),
  };
  const layer = editorOption.integer('rase', options, 'layer', baselineLayers.rome(model.dimensions.numLayers));
  const rome = romeSettingsFromOptions('rase', model, options, layer);
  const [secondMoment] = rome.mom2Adjustment ? await editorSecondMoments('rase', model, [layer], settings) : [];
  const templates = (await contextTemplatesFromOptions('rase', model, options, 'rome')).flat();
  return new RaseEditor({
    model,
    encoder,
    thresholds,
    topK: editorOption.integer('rase', options, 'top-k', 5),
    rome,
    templates,
    inverseSecondMoment: romeInverse(rome, secondMoment),
  });
}
