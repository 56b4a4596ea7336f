import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js');

/** Backend choice is per process, so each case runs in a fresh Node process, as a user would. */
function selectIn(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const script = `import('${entry}').then(async (core) => { const info = await core.selectBackend(); console.log(JSON.stringify(info)); }).catch((e) => { console.error(e.name + ': ' + e.message); process.exit(3); });`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, RECIPE_KIT_BACKEND: '', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('selectBackend', () => {
  it('picks wasm here (the tfjs-node backends are not installed) and logs one line naming it', () => {
    const run = selectIn({});
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'wasm', tfjsBackend: 'wasm' });
    const lines = run.stderr.trim().split('\n').filter((line) => line.startsWith('[recipe-kit]'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/tensor backend: wasm \(SIMD on.*tensorflow: not installed/);
  });

  it('honours RECIPE_KIT_BACKEND=cpu', () => {
    const run = selectIn({ RECIPE_KIT_BACKEND: 'cpu' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'cpu' });
    expect(run.stderr).toMatch(/forced by RECIPE_KIT_BACKEND/);
  });

  it('fails clearly, without falling back, when a forced backend is missing', () => {
    const run = selectIn({ RECIPE_KIT_BACKEND: 'tensorflow' });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/BackendUnavailableError: The tensor backend "tensorflow" was requested but cannot start/);
    expect(run.stderr).toMatch(/install @tensorflow\/tfjs-node@4\.22\.0/);
  });

  it('rejects an unknown backend name and lists the valid ones', () => {
    const run = selectIn({ RECIPE_KIT_BACKEND: 'webgpu' });
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/RECIPE_KIT_BACKEND is "webgpu".*\n.*tensorflow-gpu, tensorflow, wasm, cpu/);
  });
});
