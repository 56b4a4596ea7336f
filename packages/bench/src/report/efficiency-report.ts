/** `efficiency.json` of a compare run: per-query time of each editor on random-weight models of a realistic shape. */
export interface EfficiencyEditorResult {
  /** The editor's row label: its name, with its options when it has any (e.g. "t-patcher (steps=1)"). */
  editor: string;
  /** The editor's options, when any were given. */
  options?: Record<string, string>;
  /** Provenance written by hand when a row was measured apart from the others (e.g. rerun after a fix). */
  note?: string;
  status: 'measured' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  reason?: string;
  storedEdits: number;
  /** Mean wall time of one `edit([request])` on this model. */
  editMsMean: number | null;
  /** Median ms per query through the editor, and through the unedited model measured just before it. */
  msPerQuery: number | null;
  uneditedMsPerQuery: number | null;
  /** msPerQuery ÷ uneditedMsPerQuery. */
  ratio: number | null;
  runs: number[];
  uneditedRuns: number[];
  /** Tensors alive after the editor was disposed that were not before it (should be 0). */
  leakedTensors: number;
}

export interface EfficiencyModelResult {
  name: string;
  architecture: string;
  hiddenSize: number;
  layers: number;
  layersInConfig: number;
  /** Parameters built, and what the config's full depth would have. */
  parameters: number;
  parametersInConfig: number;
  buildSeconds: number;
  editors: EfficiencyEditorResult[];
}

export interface EfficiencyReport {
  backend: string;
  date: string;
  settings: { storedEdits: number; queries: number; repeats: number; seed: number; batchSize: 1 };
  models: EfficiencyModelResult[];
}
