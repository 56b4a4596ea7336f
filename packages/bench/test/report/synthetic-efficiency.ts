import type { EfficiencyEditorResult, EfficiencyReport } from '../../src/report/efficiency-report.js';

function measured(editor: string, ms: number, unedited: number, editMs: number | null): EfficiencyEditorResult {
  return { editor, status: 'measured', storedEdits: 8, editMsMean: editMs, msPerQuery: ms, uneditedMsPerQuery: unedited, ratio: ms / unedited, runs: [ms], uneditedRuns: [unedited], leakedTensors: 0 };
}

/** An efficiency.json as `recipe-kit compare` writes it, for one truncated ~1B LLaMA. */
export function syntheticEfficiency(): EfficiencyReport {
  return {
    backend: 'tensor backend: wasm',
    date: '2025-03-14T10:00:00Z',
    settings: { storedEdits: 8, queries: 8, repeats: 3, seed: 0, batchSize: 1 },
    models: [
      {
        name: 'llama-1b',
        architecture: 'llama',
        hiddenSize: 2048,
        layers: 8,
        layersInConfig: 22,
        parameters: 483_400_000,
        parametersInConfig: 1_100_048_384,
        buildSeconds: 40,
        editors: [
          measured('none', 800, 790, null),
          measured('recipe', 1000, 800, 35),
          measured('grace', 830, 800, 2100),
          { editor: 'mend', status: 'skipped', reason: 'no editor named mend is registered', storedEdits: 0, editMsMean: null, msPerQuery: null, uneditedMsPerQuery: null, ratio: null, runs: [], uneditedRuns: [], leakedTensors: 0 },
        ],
      },
    ],
  };
}
