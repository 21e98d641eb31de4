// COCO run-length encoding, compatible with pycocotools (maskApi.c): runs over column-major
// order (index = x * H + y), alternating background/foreground, starting with background (the
// first count may be 0), plus the compact string form used in COCO files. `rasterizeShape`
// turns an annotation's outline into an RLE by pixel centres without ever visiting W * H
// pixels, so exports of large images stay cheap.

import type { Shape } from './mask-geometry.ts'
import type { CompressedRle } from '../../../src-preload/contract/schemas.ts'

export interface Rle {
  /** [height, width], as pycocotools writes it. */
  size: [number, number]
  counts: number[]
}

export type { CompressedRle }

/** Encode a row-major mask (non-zero = inside) of width x height. */
export function rleEncode(mask: Uint8Array, width: number, height: number): Rle {
  if (mask.length !== width * height) {
    throw new RangeError(`mask holds ${mask.length} pixels, expected ${width}x${height} = ${width * height}`)
  }
  const counts: number[] = []
  let value = 0
  let run = 0
  for (let x = 0; x < width; x++) {
    for (let i = x; i < mask.length; i += width) {
      const v = mask[i] !== 0 ? 1 : 0
      if (v !== value) {
        counts.push(run)
        run = 0
        value = v
      }
      run++
    }
  }
  counts.push(run)
  return { size: [height, width], counts }
}

/** Decode to a row-major mask (1 inside) of width x height. */
export function rleDecode(rle: Rle): Uint8Array {
  const [height, width] = rle.size
  const total = width * height
  const mask = new Uint8Array(total)
  let p = 0
  for (let j = 0; j < rle.counts.length; j++) {
    const c = rle.counts[j]
    if (p + c > total) throw new RangeError(`RLE counts exceed the ${width}x${height} mask`)
    if (j & 1) {
      for (let k = p; k < p + c; k++) {
        const x = Math.floor(k / height)
        mask[(k - x * height) * width + x] = 1
      }
    }
    p += c
  }
  return mask
}

/** pycocotools' rleToString: LEB128-like, 5 data bits per char offset by 48, deltas against counts[i-2]. */
export function rleToString(rle: Rle): CompressedRle {
  const chars: number[] = []
  const cnts = rle.counts
  for (let i = 0; i < cnts.length; i++) {
    let x = cnts[i]
    if (i > 2) x -= cnts[i - 2]
    let more = true
    while (more) {
      // x & 0x1f and an arithmetic shift, on numbers that may exceed 32 bits.
      let c = x - Math.floor(x / 32) * 32
      x = Math.floor(x / 32)
      more = c & 0x10 ? x !== -1 : x !== 0
      if (more) c |= 0x20
      chars.push(c + 48)
    }
  }
  // fromCharCode with a spread hits the argument-count limit on long RLEs: join in chunks.
  let text = ''
  for (let i = 0; i < chars.length; i += 8192) text += String.fromCharCode(...chars.slice(i, i + 8192))
  return { size: [rle.size[0], rle.size[1]], counts: text }
}

/**
 * Why `rle` is not a mask of its own size, or null: a run that is negative or not an integer,
 * or runs that do not cover exactly height x width pixels. pycocotools decodes such RLEs
 * without a word; every RLE we read (a file, the database, a shipped project) is checked here
 * first, because walking a run of 2^34 pixels, or a negative one, hangs or corrupts whatever
 * traces or rasterises it next.
 */
export function rleProblem(rle: Rle): string | null {
  const [height, width] = rle.size
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(width) || height <= 0 || width <= 0) {
    return `RLE size [${height}, ${width}] is not [height, width] in positive integers`
  }
  let sum = 0
  for (let i = 0; i < rle.counts.length; i++) {
    const c = rle.counts[i]
    if (!Number.isSafeInteger(c) || c < 0) return `RLE run ${i} (${c}) is not an integer >= 0`
    sum += c
  }
  if (sum !== height * width) {
    return `RLE counts cover ${sum} pixels, but the size [${height}, ${width}] has ${height * width}`
  }
  return null
}

/** pycocotools' rleFrString, refusing (RangeError) an RLE that is not a mask of its size (rleProblem). */
export function rleFromString(compressed: CompressedRle): Rle {
  const rle = rleFromStringUnchecked(compressed)
  const problem = rleProblem(rle)
  if (problem !== null) throw new RangeError(problem)
  return rle
}

/** The start of a counts string for a message: a poisoned one may be megabytes long. */
function excerpt(counts: string): string {
  return counts.length > 40 ? `${counts.slice(0, 40)}… (${counts.length} characters)` : counts
}

function rleFromStringUnchecked(compressed: CompressedRle): Rle {
  const s = compressed.counts
  const counts: number[] = []
  let p = 0
  while (p < s.length) {
    let x = 0
    let k = 0
    let more = true
    while (more) {
      if (p >= s.length) throw new RangeError(`RLE string ends inside a count: "${excerpt(s)}"`)
      const c = s.charCodeAt(p) - 48
      if (c < 0 || c > 63) throw new RangeError(`RLE string has an invalid character at ${p}: "${excerpt(s)}"`)
      x += (c & 0x1f) * 2 ** (5 * k)
      more = (c & 0x20) !== 0
      p++
      k++
      if (!more && c & 0x10) x -= 2 ** (5 * k)
    }
    if (counts.length > 2) x += counts[counts.length - 2]
    counts.push(x)
  }
  return { size: [compressed.size[0], compressed.size[1]], counts }
}

/** Number of foreground pixels. */
export function rleArea(rle: Rle): number {
  let a = 0
  for (let j = 1; j < rle.counts.length; j += 2) a += rle.counts[j]
  return a
}

/** pycocotools' rleToBbox: [x, y, w, h] of the foreground, [0, 0, 0, 0] when empty. */
export function rleToBbox(rle: Rle): [number, number, number, number] {
  const [h, w] = rle.size
  const m = rle.counts.length - (rle.counts.length % 2)
  if (m === 0) return [0, 0, 0, 0]
  let xs = w,
    ys = h,
    xe = 0,
    ye = 0
  let cc = 0
  for (let j = 0; j < m; j++) {
    const start = cc
    cc += rle.counts[j]
    if (j % 2 === 0 || rle.counts[j] === 0) continue
    const yStart = start % h,
      xStart = (start - yStart) / h
    const yEnd = (cc - 1) % h,
      xEnd = (cc - 1 - yEnd) / h
    xs = Math.min(xs, xStart)
    xe = Math.max(xe, xEnd)
    if (xStart < xEnd) {
      ys = 0
      ye = h - 1
    } else {
      ys = Math.min(ys, yStart)
      ye = Math.max(ye, yEnd)
    }
  }
  // pycocotools computes with unsigned ints: an all-background RLE of even length wraps; we
  // report the empty box instead.
  if (xs > xe) return [0, 0, 0, 0]
  return [xs, ys, xe - xs + 1, ye - ys + 1]
}

/**
 * Rasterise a shape by pixel centres: pixel (x, y) is inside when (x + 0.5, y + 0.5) is inside
 * (even-odd between a part's outer ring and its holes; parts are unioned). Scans columns of the
 * shape's bounding box and emits column-major runs directly; cost follows the outline.
 */
export function rasterizeShape(shape: Shape, width: number, height: number): Rle {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0)) {
    throw new RangeError(`image size must be non-negative integers, got ${width}x${height}`)
  }
  const total = width * height
  // Pass 1: column range of every edge (pixel-centre columns it crosses, half-open rule).
  let colMin = width,
    colMax = -1
  const rings: { ring: number[]; part: number }[] = []
  shape.parts.forEach((part, p) => {
    rings.push({ ring: part.outer, part: p })
    for (const hole of part.holes) rings.push({ ring: hole, part: p })
  })
  const perColumn = new Int32Array(width + 1)
  for (const { ring } of rings) {
    const n = ring.length >> 1
    for (let i = 0; i < n; i++) {
      const j = i + 1 < n ? i + 1 : 0
      const x0 = ring[2 * i],
        x1 = ring[2 * j]
      if (x0 === x1) continue
      const c0 = firstColumn(x0, x1),
        c1 = lastColumn(x0, x1, width)
      if (c0 > c1) continue
      if (c0 < colMin) colMin = c0
      if (c1 > colMax) colMax = c1
      perColumn[c0] += 1
      perColumn[c1 + 1] -= 1
    }
  }
  const counts: number[] = []
  if (colMax < colMin || height === 0) {
    counts.push(total)
    return { size: [height, width], counts }
  }
  // Prefix sums give each column's crossing count, then its slot offset.
  const offset = new Int32Array(width + 1)
  let running = 0
  let slots = 0
  for (let x = 0; x < width; x++) {
    running += perColumn[x]
    offset[x] = slots
    slots += running
  }
  offset[width] = slots
  const ys = new Float64Array(slots)
  const parts = new Int32Array(slots)
  const fill = offset.slice()
  for (const { ring, part } of rings) {
    const n = ring.length >> 1
    for (let i = 0; i < n; i++) {
      const j = i + 1 < n ? i + 1 : 0
      const x0 = ring[2 * i],
        y0 = ring[2 * i + 1],
        x1 = ring[2 * j],
        y1 = ring[2 * j + 1]
      if (x0 === x1) continue
      const c0 = firstColumn(x0, x1),
        c1 = lastColumn(x0, x1, width)
      const slope = (y1 - y0) / (x1 - x0)
      for (let c = c0; c <= c1; c++) {
        const s = fill[c]++
        ys[s] = y0 + (c + 0.5 - x0) * slope
        parts[s] = part
      }
    }
  }

  // Pass 2: per column, sort crossings and sweep; a pixel is inside when any part's parity is odd.
  const parity = new Uint8Array(shape.parts.length)
  let pos = 0 // column-major index where the pending background run starts
  let runStart = -1 // start of the pending foreground run, or -1
  let runEnd = -1
  const emit = (start: number, end: number): void => {
    if (runStart >= 0 && start <= runEnd) {
      if (end > runEnd) runEnd = end
      return
    }
    if (runStart >= 0) {
      counts.push(runStart - pos, runEnd - runStart)
      pos = runEnd
    }
    runStart = start
    runEnd = end
  }
  for (let x = colMin; x <= colMax; x++) {
    const a = offset[x],
      b = offset[x + 1]
    if (b - a < 2) continue
    sortCrossings(ys, parts, a, b)
    let insideParts = 0
    let from = 0
    const base = x * height
    for (let s = a; s < b; s++) {
      const p = parts[s]
      parity[p] ^= 1
      if (parity[p]) {
        if (insideParts++ === 0) from = ys[s]
      } else if (--insideParts === 0) {
        // Rows whose centre y + 0.5 lies in [from, ys[s]).
        const r0 = Math.max(0, Math.ceil(from - 0.5))
        const r1 = Math.min(height, Math.ceil(ys[s] - 0.5))
        if (r1 > r0) emit(base + r0, base + r1)
      }
    }
    // Only this column's parts can be odd: clearing them is cheaper than the whole table
    // (thousands of parts on a fragmented mask, times every column).
    for (let s = a; s < b; s++) parity[parts[s]] = 0
  }
  if (runStart >= 0) {
    counts.push(runStart - pos, runEnd - runStart)
    pos = runEnd
  }
  if (pos < total || counts.length === 0) counts.push(total - pos)
  return { size: [height, width], counts }
}

// Columns c (clipped to the image) whose centre c + 0.5 is in [min(x0,x1), max(x0,x1)): from
// firstColumn to lastColumn (none when first > last). Two functions, not a pair: a tuple per
// edge, twice per edge, was garbage worth tens of ms on a fragmented mask.
function firstColumn(x0: number, x1: number): number {
  return Math.max(0, Math.ceil(Math.min(x0, x1) - 0.5))
}

function lastColumn(x0: number, x1: number, width: number): number {
  return Math.min(width - 1, Math.ceil(Math.max(x0, x1) - 0.5) - 1)
}

// Crossings of one column by y, with their parts: insertion sort for the usual handful, an
// in-place quicksort on the two typed arrays above that. A fragmented mask puts hundreds of
// crossings in every column; sorting them as index arrays with a comparator (allocations and a
// call per comparison) was most of toCocoSegmentation's time on a 4000x3000 noise-like mask.
function sortCrossings(ys: Float64Array, parts: Int32Array, a: number, b: number): void {
  let hi = b - 1
  while (hi - a > 16) {
    const mid = a + ((hi - a) >> 1)
    // Median of three as pivot, moved to hi.
    if (ys[mid] < ys[a]) swap(ys, parts, mid, a)
    if (ys[hi] < ys[a]) swap(ys, parts, hi, a)
    if (ys[mid] < ys[hi]) swap(ys, parts, mid, hi)
    const pivot = ys[hi]
    let i = a
    for (let j = a; j < hi; j++) if (ys[j] < pivot) swap(ys, parts, i++, j)
    swap(ys, parts, i, hi)
    // Recurse into the smaller side, loop on the larger: stack depth stays logarithmic.
    if (i - a < hi - i) {
      sortCrossings(ys, parts, a, i)
      a = i + 1
    } else {
      sortCrossings(ys, parts, i + 1, hi + 1)
      hi = i - 1
    }
  }
  for (let i = a + 1; i <= hi; i++) {
    const y = ys[i],
      p = parts[i]
    let j = i - 1
    while (j >= a && ys[j] > y) {
      ys[j + 1] = ys[j]
      parts[j + 1] = parts[j]
      j--
    }
    ys[j + 1] = y
    parts[j + 1] = p
  }
}

function swap(ys: Float64Array, parts: Int32Array, i: number, j: number): void {
  const y = ys[i]
  ys[i] = ys[j]
  ys[j] = y
  const p = parts[i]
  parts[i] = parts[j]
  parts[j] = p
}
