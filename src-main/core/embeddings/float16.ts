// IEEE 754 half precision for embeddings on disk: halves the size of a cache entry (16.8 MB of
// SAM 2.1 features become 8.4 MB) at a precision (11 significant bits) far finer than what the
// decoder's masks respond to. Node 20 has no Float16Array, so this is done on typed arrays.
//
// Encoding rounds to nearest, ties to even (what numpy's astype(float16) does), keeps
// subnormals, infinities and NaN. Decoding is a lookup in a 65,536-entry table, two values per
// load, because reading an entry from disk is on the path to the user's first click.

let decodeTable: Float32Array | null = null

function table(): Float32Array {
  if (decodeTable) return decodeTable
  const t = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1
    const e = (h >>> 10) & 0x1f
    const m = h & 0x3ff
    if (e === 0) t[h] = sign * m * 2 ** -24
    else if (e === 31) t[h] = m === 0 ? sign * Infinity : NaN
    else t[h] = sign * 2 ** (e - 15) * (1 + m / 1024)
  }
  decodeTable = t
  return t
}

/** float32 → float16 bits, rounding to nearest even. `out` may be a view into a file buffer. */
export function toFloat16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (out.length < src.length) throw new Error(`float16 output holds ${out.length} values, need ${src.length}`)
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length)
  const n = src.length
  for (let i = 0; i < n; i++) {
    const x = bits[i]
    const sign = (x >>> 16) & 0x8000
    const e = (x >>> 23) & 0xff
    const m = x & 0x7fffff
    let h: number
    if (e >= 113 && e <= 142) {
      // Normal in half precision: rebias the exponent, round away the 13 low mantissa bits. A
      // carry out of the mantissa correctly bumps the exponent (up to infinity).
      h = ((e - 112) << 10) | (m >>> 13)
      const rest = m & 0x1fff
      if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++
    } else if (e > 142) {
      h = e === 0xff && m !== 0 ? 0x7e00 | (m >>> 13) : 0x7c00 // NaN stays NaN; overflow → ∞
    } else if (e >= 102) {
      // Subnormal in half precision: the value is (m | implicit 1) · 2^(e−150) = k · 2^−24.
      const full = m | 0x800000
      const shift = 126 - e
      h = full >>> shift
      const rest = full & ((1 << shift) - 1)
      const halfway = 1 << (shift - 1)
      if (rest > halfway || (rest === halfway && h & 1)) h++
    } else {
      h = 0 // below half the smallest subnormal: rounds to zero
    }
    out[i] = sign | h
  }
  return out
}

/** float16 bits → float32. */
export function fromFloat16(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  if (out.length < src.length) throw new Error(`float32 output holds ${out.length} values, need ${src.length}`)
  const t = new Uint32Array(table().buffer)
  const o = new Uint32Array(out.buffer, out.byteOffset, src.length)
  const n = src.length
  let i = 0
  if (src.byteOffset % 4 === 0) {
    // Two values per 32-bit load (little-endian: the first value is the low half), about twice
    // as fast as one 16-bit load per value.
    const pairs = new Uint32Array(src.buffer, src.byteOffset, n >>> 1)
    for (let k = 0; k < pairs.length; k++, i += 2) {
      const w = pairs[k]
      o[i] = t[w & 0xffff]
      o[i + 1] = t[w >>> 16]
    }
  }
  for (; i < n; i++) o[i] = t[src[i]]
  return out
}
