import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from '../../src/checkpoints/named-tensor.js';

// Expected bit patterns were worked out by hand from the IEEE layouts and cross-checked with numpy
// (np.float16 casts); none of them come from the converters under test.
const float16Cases: [string, number, number][] = [
  ['1', 1, 0x3c00],
  ['-2.5', -2.5, 0xc100],
  ['largest half 65504', 65504, 0x7bff],
  ['65519 rounds down to 65504', 65519, 0x7bff],
  ['65520 (tie above the largest half) rounds to Infinity', 65520, 0x7c00],
  ['1e5 overflows to Infinity', 100000, 0x7c00],
  ['6.1e-5, just below the smallest normal, becomes subnormal 1023', 6.1e-5, 0x03ff],
  ['smallest normal 2^-14', 2 ** -14, 0x0400],
  ['smallest subnormal 2^-24', 2 ** -24, 0x0001],
  ['2^-25 is a tie between 0 and 2^-24: even gives 0', 2 ** -25, 0x0000],
  ['1.5 * 2^-25 rounds up to 2^-24', 1.5 * 2 ** -25, 0x0001],
  ['3 * 2^-25 is a tie between subnormals 1 and 2: even gives 2', 3 * 2 ** -25, 0x0002],
  ['1e-8 underflows to 0', 1e-8, 0x0000],
  ['1 + 2^-11 is a tie: even gives 1', 1 + 2 ** -11, 0x3c00],
  ['1 + 3 * 2^-11 is a tie: even gives 1 + 2^-9', 1 + 3 * 2 ** -11, 0x3c02],
  ['1 + 2^-11 + 2^-20 is above the tie', 1 + 2 ** -11 + 2 ** -20, 0x3c01],
  ['Infinity', Infinity, 0x7c00],
  ['-Infinity', -Infinity, 0xfc00],
  ['-0', -0, 0x8000],
];

const bfloat16Cases: [string, number, number][] = [
  ['1', 1, 0x3f80],
  ['-2.5', -2.5, 0xc020],
  ['65504 (f32 0x477fe000) rounds up to 65536', 65504, 0x4780],
  ['6.1e-5 (f32 0x387fda40) rounds up to 2^-14', 6.1e-5, 0x3880],
  ['1 + 2^-8 (f32 0x3f808000) is a tie: even keeps 0x3f80', 1 + 2 ** -8, 0x3f80],
  ['1 + 2^-7 + 2^-8 (f32 0x3f818000) is a tie: even gives 0x3f82', 1 + 2 ** -7 + 2 ** -8, 0x3f82],
  ['largest bfloat16', 3.3895313892515355e38, 0x7f7f],
  ['largest float32 rounds to Infinity', 3.4028234663852886e38, 0x7f80],
  ['Infinity', Infinity, 0x7f80],
  ['-Infinity', -Infinity, 0xff80],
  ['-0', -0, 0x8000],
];

describe('float16', () => {
  it.each(float16Cases)('encodes %s', (_, value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('decodes subnormals, normals and specials exactly', () => {
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16BitsToFloat32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(float16BitsToFloat32(0x0400)).toBe(2 ** -14);
    expect(float16BitsToFloat32(0x3c01)).toBe(1 + 2 ** -10);
    expect(float16BitsToFloat32(0x7bff)).toBe(65504);
    expect(float16BitsToFloat32(0xc100)).toBe(-2.5);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(float16BitsToFloat32(0x7e00)).toBeNaN();
    expect(float16BitsToFloat32(0xfc01)).toBeNaN();
  });

  it('keeps NaN a NaN (never Infinity)', () => {
    const bits = float32ToFloat16Bits(NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x03ff).not.toBe(0);
  });

  it('round-trips every one of the 65536 half values', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits += 1) {
      const value = float16BitsToFloat32(bits);
      if (!Number.isNaN(value) && float32ToFloat16Bits(value) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds every midpoint between neighbouring halves to the even one', () => {
    // The midpoint of two adjacent halves has 12 significant bits, so it is exact in float32.
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x7bff; bits += 1) {
      const midpoint = (float16BitsToFloat32(bits) + float16BitsToFloat32(bits + 1)) / 2;
      const even = bits % 2 === 0 ? bits : bits + 1;
      if (float32ToFloat16Bits(midpoint) !== even || float32ToFloat16Bits(-midpoint) !== (even | 0x8000)) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe('bfloat16', () => {
  it.each(bfloat16Cases)('encodes %s', (_, value, bits) => {
    expect(float32ToBfloat16Bits(value)).toBe(bits);
  });

  it('decodes by placing the bits in the top half of a float32', () => {
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1);
    expect(bfloat16BitsToFloat32(0xc020)).toBe(-2.5);
    expect(bfloat16BitsToFloat32(0x4780)).toBe(65536);
    expect(bfloat16BitsToFloat32(0x0001)).toBe(2 ** -133); // smallest bfloat16 subnormal
    expect(bfloat16BitsToFloat32(0xff80)).toBe(-Infinity);
    expect(bfloat16BitsToFloat32(0x7fc0)).toBeNaN();
  });

  it('keeps NaN a NaN, even one whose payload lies only in the dropped bits', () => {
    const view = new DataView(new ArrayBuffer(4));
    view.setUint32(0, 0x7f800001); // NaN with only the lowest payload bit set
    const bits = float32ToBfloat16Bits(view.getFloat32(0));
    expect(bits & 0x7f80).toBe(0x7f80);
    expect(bits & 0x007f).not.toBe(0);
    expect(Number.isNaN(bfloat16BitsToFloat32(float32ToBfloat16Bits(NaN)))).toBe(true);
  });
});
