import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from '../errors.js';
import { patchWasmBatchMatMul, registerWasmUnsortedSegmentSum } from './wasm-kernel-fixes.js';

/** Our names for the tensor backends, in order of preference. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /** The name tfjs registered (`tensorflow` for both node bindings). */
  tfjsBackend: string;
  /** One line describing the choice; also what was logged. */
  description: string;
}

export interface SelectBackendOptions {
  /** Force a backend; defaults to the `RECIPE_KIT_BACKEND` environment variable, else automatic. */
  backend?: BackendName;
  /** Where the one line naming the backend goes (default: stderr). Pass `null` to stay silent. */
  log?: ((line: string) => void) | null;
}

/** Optional packages are imported by a computed specifier so the build does not require them. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

function gpuLooksUsable(): boolean {
  if (process.env['CUDA_VISIBLE_DEVICES'] === '-1' || process.env['CUDA_VISIBLE_DEVICES'] === '') return false;
  return existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0');
}

interface Attempt {
  name: BackendName;
  /** Registers the backend with tfjs (or throws why it cannot). Returns tfjs's name for it. */
  register(): Promise<string>;
  installHint: string;
}

const ATTEMPTS: Record<BackendName, Attempt> = {
  'tensorflow-gpu': {
    name: 'tensorflow-gpu',
    installHint: 'install @tensorflow/tfjs-node-gpu@4.22.0 (needs CUDA and network access to download libtensorflow)',
    async register() {
      if (!gpuLooksUsable()) throw new Error('no GPU visible');
      await importOptional('@tensorflow/tfjs-node-gpu');
      return 'tensorflow';
    },
  },
  tensorflow: {
    name: 'tensorflow',
    installHint: 'install @tensorflow/tfjs-node@4.22.0 (its install script downloads libtensorflow)',
    async register() {
      await importOptional('@tensorflow/tfjs-node');
      return 'tensorflow';
    },
  },
  wasm: {
    name: 'wasm',
    installHint: 'install @tensorflow/tfjs-backend-wasm@4.22.0 (it is a dependency of @recipe-kit/core; reinstall)',
    async register() {
      await importOptional('@tensorflow/tfjs-backend-wasm');
      return 'wasm';
    },
  },
  cpu: {
    name: 'cpu',
    installHint: 'install @tensorflow/tfjs@4.22.0',
    async register() {
      return 'cpu';
    },
  },
};

let current: Promise<BackendInfo> | undefined;
let currentName: BackendName | undefined;

function parseBackendName(value: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new BackendUnavailableError(
    `RECIPE_KIT_BACKEND is "${value}", which is not a backend name.`,
    `Set it to one of ${BACKEND_NAMES.join(', ')}, or unset it to choose automatically.`,
  );
}

async function activate(attempt: Attempt): Promise<BackendInfo> {
  const tfjsBackend = await attempt.register();
  const ok = await tf.setBackend(tfjsBackend);
  if (!ok) throw new Error(`tf.setBackend('${tfjsBackend}') returned false`);
  await tf.ready();
  let detail = '';
  if (attempt.name === 'wasm') {
    patchWasmBatchMatMul();
    registerWasmUnsortedSegmentSum();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    detail = ` (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}, BatchMatMul-transpose and UnsortedSegmentSum fixes applied)`;
  }
  return { name: attempt.name, tfjsBackend, description: `tensor backend: ${attempt.name}${detail}, tfjs ${tf.version_core}` };
}

/**
 * Picks and activates the tensor backend once per process: tfjs-node-gpu when installed and a GPU is
 * visible, then tfjs-node, then wasm, then cpu. `RECIPE_KIT_BACKEND` (or `options.backend`) forces one;
 * a forced backend that cannot start is an error, never a silent fallback.
 */
export function selectBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const envValue = process.env['RECIPE_KIT_BACKEND'];
  const forced = options.backend ?? (envValue ? parseBackendName(envValue) : undefined);
  if (current && (forced === undefined || forced === currentName)) return current;
  const log = options.log === undefined ? (line: string) => process.stderr.write(`[recipe-kit] ${line}\n`) : options.log;
  current = (async () => {
    if (forced) {
      try {
        const info = await activate(ATTEMPTS[forced]);
        log?.(`${info.description} (forced by ${options.backend ? 'the caller' : 'RECIPE_KIT_BACKEND'})`);
        return info;
      } catch (error) {
        throw new BackendUnavailableError(
          `The tensor backend "${forced}" was requested but cannot start: ${(error as Error).message}`,
          `${ATTEMPTS[forced].installHint}, or choose another with RECIPE_KIT_BACKEND=${BACKEND_NAMES.join('|')}.`,
          { cause: error },
        );
      }
    }
    const skipped: string[] = [];
    for (const name of BACKEND_NAMES) {
      try {
        const info = await activate(ATTEMPTS[name]);
        log?.(`${info.description}${skipped.length ? ` (not available: ${skipped.join('; ')})` : ''}`);
        return info;
      } catch (error) {
        skipped.push(`${name}: ${reasonUnavailable(error)}`);
      }
    }
    throw new BackendUnavailableError(`No tensor backend could start: ${skipped.join('; ')}`, ATTEMPTS.cpu.installHint);
  })();
  currentName = forced;
  current.then(
    (info) => (currentName = info.name),
    () => (current = undefined),
  );
  return current;
}

function reasonUnavailable(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'not installed';
  return firstLine((error as Error).message);
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? text;
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
