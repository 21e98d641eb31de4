// float16 storage: exact on every half-precision value, round-to-nearest-even in between,
// and within half a unit in the last place on realistic feature values.

import { describe, expect, it } from 'vitest'
import { fromFloat16, toFloat16 } from '../../../src-main/core/embeddings/float16.ts'

describe('float16', () => {
  it('round-trips all 65,536 half-precision bit patterns (NaN stays NaN)', () => {
    const bits = new Uint16Array(65536).map((_, i) => i)
    const widened = fromFloat16(bits)
    const back = toFloat16(widened)
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0
      if (isNaN) {
        expect(Number.isNaN(widened[h])).toBe(true)
        expect(back[h] & 0x7c00).toBe(0x7c00)
        expect(back[h] & 0x3ff).not.toBe(0)
      } else if (back[h] !== h) {
        throw new Error(`half 0x${h.toString(16)} → ${widened[h]} → 0x${back[h].toString(16)}`)
      }
    }
  })

  it('decodes known values', () => {
    const v = fromFloat16(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x3555]))
    expect(Array.from(v)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, -0, 0.333251953125])
  })

  it('rounds to nearest, ties to even, with overflow to infinity and underflow to zero', () => {
    const ulp = 2 ** -10
    const src = new Float32Array([
      1 + ulp / 2, // tie, 1 is even → 1
      1 + ulp + ulp / 2, // tie, next is even → 1 + 2ulp
      1 + ulp / 2 + 2 ** -20, // above the tie → 1 + ulp
      65520, // halfway between 65504 and 65536 (∞) → ∞
      65519, // below → 65504
      2 ** -25, // tie between 0 and the smallest subnormal → 0
      2 ** -25 * 1.5, // → smallest subnormal
      -(2 ** -30), // → -0
      NaN,
    ])
    const h = toFloat16(src)
    expect(Array.from(h.slice(0, 8))).toEqual([0x3c00, 0x3c02, 0x3c01, 0x7c00, 0x7bff, 0x0000, 0x0001, 0x8000])
    expect(Number.isNaN(fromFloat16(h)[8])).toBe(true)
  })

  it('keeps feature-like values within half an ulp (relative error under 2^-11)', () => {
    const n = 200_000
    const src = new Float32Array(n)
    let s = 12345
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) >>> 0
      src[i] = (s / 2 ** 32 - 0.5) * 8
    }
    const back = fromFloat16(toFloat16(src))
    let worst = 0
    for (let i = 0; i < n; i++) {
      if (Math.abs(src[i]) < 2 ** -14) continue // subnormal range: absolute, not relative, precision
      worst = Math.max(worst, Math.abs(back[i] - src[i]) / Math.abs(src[i]))
    }
    expect(worst).toBeGreaterThan(0)
    expect(worst).toBeLessThanOrEqual(2 ** -11)
  })

  it('writes into a view at an offset of a larger buffer', () => {
    const buf = new ArrayBuffer(64)
    const view = new Uint16Array(buf, 8, 3)
    toFloat16(new Float32Array([0.5, -1, 3]), view)
    expect(Array.from(fromFloat16(view))).toEqual([0.5, -1, 3])
    expect(new Uint16Array(buf, 0, 4).every((x) => x === 0)).toBe(true)
  })
})
