/**
 * The framework-free tensor the checkpoint readers and writers exchange: a shape and a row-major
 * float32 buffer. Adapters turn each into a tfjs tensor and drop the typed array, so readers hand
 * them out one at a time instead of building a second copy of all weights.
 */
export interface NamedTensor {
  /** Row-major dimensions; `[]` for a scalar. The product equals `data.length`. */
  shape: number[];
  data: Float32Array;
}

/** Tensors by checkpoint name (Hugging Face naming), in checkpoint order. */
export type TensorMap = Map<string, NamedTensor>;

/** The safetensors dtypes this package reads and writes; all decode to float32. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

/** Bytes per element on disk. */
export function safetensorsDtypeBytes(dtype: SafetensorsDtype): number {
  return dtype === 'F32' ? 4 : 2;
}

// One scratch word to read and write float32 bit patterns without allocating per value.
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** IEEE binary16 bits → the float32 value it denotes (exact: every half is a float). */
export function float16BitsToFloat32(bits: number): number {
  return float16Table()[bits & 0xffff] as number;
}

/** bfloat16 bits → float32 value (exact: bfloat16 is the top half of a float32). */
export function bfloat16BitsToFloat32(bits: number): number {
  scratchBits[0] = (bits & 0xffff) << 16;
  return scratchFloat[0] as number;
}

/**
 * float32 value → IEEE binary16 bits, rounding to nearest, ties to even (as numpy and PyTorch do).
 * Overflow gives ±Infinity, tiny values give subnormals or ±0, NaN stays a (quiet) NaN.
 * The value is first rounded to float32, matching a cast from a Float32Array.
 */
export function float32ToFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  return float32BitsToFloat16Bits(scratchBits[0] as number);
}

/** float32 value → bfloat16 bits, round to nearest, ties to even; NaN stays a quiet NaN. */
export function float32ToBfloat16Bits(value: number): number {
  scratchFloat[0] = value;
  return float32BitsToBfloat16Bits(scratchBits[0] as number);
}

/** Decodes F16 or BF16 bit patterns into `target` (same length). */
export function decodeHalfPrecision(dtype: 'F16' | 'BF16', source: Uint16Array, target: Float32Array): void {
  if (dtype === 'F16') {
    const table = float16Table();
    for (let index = 0; index < source.length; index += 1) target[index] = table[source[index] as number] as number;
  } else {
    // Writing the shifted bits through a Uint32 view of the target avoids a per-value float round trip.
    const targetBits = new Uint32Array(target.buffer, target.byteOffset, target.length);
    for (let index = 0; index < source.length; index += 1) targetBits[index] = (source[index] as number) << 16;
  }
}

/** Encodes float32 values into F16 or BF16 bit patterns in `target` (same length). */
export function encodeHalfPrecision(dtype: 'F16' | 'BF16', source: Float32Array, target: Uint16Array): void {
  const sourceBits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  const encode = dtype === 'F16' ? float32BitsToFloat16Bits : float32BitsToBfloat16Bits;
  for (let index = 0; index < source.length; index += 1) target[index] = encode(sourceBits[index] as number);
}

function float32BitsToBfloat16Bits(bits: number): number {
  // NaN: keep the sign and force the quiet bit, so truncating the payload cannot turn it into Infinity.
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff;
  // Adding 0x7fff plus the lowest kept bit rounds to nearest with ties going to the even neighbour;
  // a carry into the exponent is the correct result (up to Infinity for the largest floats).
  const roundingBias = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + roundingBias) >>> 16) & 0xffff;
}

/** Bit-level float32 → binary16 (the algorithm of numpy's `npy_floatbits_to_halfbits`). */
function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = bits & 0x7f800000;
  const mantissa = bits & 0x007fffff;

  // Magnitude of 2^16 or more: Infinity or NaN stays itself, finite values overflow to Infinity.
  if (exponent >= 0x47800000) {
    if (exponent === 0x7f800000 && mantissa !== 0) {
      // Keep the top payload bits but never let a NaN collapse to Infinity.
      const payload = mantissa >>> 13;
      return sign | 0x7c00 | (payload === 0 ? 0x0200 : payload);
    }
    return sign | 0x7c00;
  }

  // Below 2^-14 the result is subnormal or zero.
  if (exponent <= 0x38000000) {
    // Below 2^-25 even rounding up cannot reach the smallest subnormal 2^-24.
    if (exponent < 0x33000000) return sign;
    const biasedExponent = exponent >>> 23;
    // Restore the implicit leading 1, then shift so the result has the subnormal's fixed exponent.
    let significand = (0x00800000 + mantissa) >>> (113 - biasedExponent);
    // Round half to even: add half an ulp unless the value is exactly a tie and the kept bit is even.
    // Bits shifted out above are checked in the original mantissa (`bits & 0x7ff`).
    if ((significand & 0x3fff) !== 0x1000 || (bits & 0x7ff) !== 0) significand += 0x1000;
    // A carry into bit 10 turns the subnormal into the smallest normal, which is correct.
    return sign | (significand >>> 13);
  }

  const halfExponent = (exponent - 0x38000000) >>> 13;
  let significand = mantissa;
  if ((significand & 0x3fff) !== 0x1000) significand += 0x1000;
  // A rounding carry increments the exponent (possibly to Infinity), which is the correct result.
  return sign | ((halfExponent + (significand >>> 13)) & 0x7fff);
}

let cachedFloat16Table: Float32Array | undefined;

/** All 65536 binary16 values as float32, built on first use (256 KiB) so decoding is one lookup. */
function float16Table(): Float32Array {
  if (cachedFloat16Table) return cachedFloat16Table;
  const table = new Float32Array(65536);
  const tableBits = new Uint32Array(table.buffer);
  for (let bits = 0; bits < 65536; bits += 1) {
    const sign = (bits & 0x8000) << 16;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: mantissa × 2^-24, exactly representable as a normal float32.
      table[bits] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    } else if (exponent === 0x1f) {
      // Infinity or NaN, payload kept in the top mantissa bits.
      tableBits[bits] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
    } else {
      tableBits[bits] = (sign | ((exponent - 15 + 127) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  cachedFloat16Table = table;
  return table;
}
