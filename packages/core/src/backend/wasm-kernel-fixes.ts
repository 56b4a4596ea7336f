import * as tf from '@tensorflow/tfjs';

/**
 * Two fixes for @tensorflow/tfjs-backend-wasm 4.22, measured on this project's machines:
 *
 * 1. BatchMatMul with transposeA/transposeB leaves XNNPACK's fast path and is 10–60× slower,
 *    which makes every backward pass ~11× slower. We transpose explicitly, then multiply.
 * 2. There is no UnsortedSegmentSum kernel, which the gradient of `gather` (embedding lookups)
 *    needs. We register an exact JavaScript kernel instead of silently using another backend.
 */

interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  disposeData(dataId: object): boolean;
}

const patched = new WeakSet<object>();

/**
 * Operands above this many elements are not transposed into a temporary: the copy and XNNPACK's
 * packed copy of it cost twice their size at once (0.5 GiB for a 2048 × 32,000 output projection),
 * which aborts a 4 GiB wasm heap already holding a large model. Those few products take the
 * kernel's slower transposing loop instead.
 */
export const LARGEST_TRANSPOSED_OPERAND = 2 ** 22;

const elements = (info: tf.TensorInfo): number => info.shape.reduce((product, size) => product * size, 1);

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

export function patchWasmBatchMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose) throw new Error('wasm kernels BatchMatMul/Transpose are not registered');
  if (patched.has(original)) return;
  const originalFunc = original.kernelFunc;
  const transposeFunc = transpose.kernelFunc;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  const config: tf.KernelConfig = {
    ...original,
    kernelFunc: ({ inputs, backend, attrs }) => {
      let a = inputs['a'] as tf.TensorInfo;
      let b = inputs['b'] as tf.TensorInfo;
      const temporaries: tf.TensorInfo[] = [];
      const matmulAttrs = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if ((matmulAttrs.transposeA && elements(a) > LARGEST_TRANSPOSED_OPERAND) || (matmulAttrs.transposeB && elements(b) > LARGEST_TRANSPOSED_OPERAND)) {
        return originalFunc({ inputs, backend, attrs });
      }
      if (matmulAttrs.transposeA) {
        a = transposeFunc({ inputs: { x: a }, backend, attrs: { perm: swapLastTwo(a.shape.length) } }) as tf.TensorInfo;
        temporaries.push(a);
      }
      if (matmulAttrs.transposeB) {
        b = transposeFunc({ inputs: { x: b }, backend, attrs: { perm: swapLastTwo(b.shape.length) } }) as tf.TensorInfo;
        temporaries.push(b);
      }
      const out = originalFunc({
        inputs: { a, b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
      for (const t of temporaries) (backend as unknown as WasmBackendLike).disposeData(t.dataId);
      return out;
    },
  };
  tf.registerKernel(config);
  const replaced = tf.getKernel('BatchMatMul', 'wasm');
  if (replaced) patched.add(replaced);
}

export function registerWasmUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as unknown as WasmBackendLike;
      const x = inputs['x'] as tf.TensorInfo;
      const segmentIds = inputs['segmentIds'] as tf.TensorInfo;
      const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
      const values = wasm.readSync(x.dataId);
      const ids = wasm.readSync(segmentIds.dataId);
      const rows = ids.length;
      const inner = rows === 0 ? 0 : values.length / rows;
      const out = wasm.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
      const target = wasm.typedArrayFromHeap(out);
      target.fill(0);
      for (let r = 0; r < rows; r++) {
        const segment = ids[r] as number;
        if (segment < 0 || segment >= numSegments) continue;
        const outOffset = segment * inner;
        const inOffset = r * inner;
        for (let j = 0; j < inner; j++) target[outOffset + j] = (target[outOffset + j] as number) + (values[inOffset + j] as number);
      }
      return out;
    },
  });
}
