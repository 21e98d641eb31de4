// The reference mask, the oracle the mask tests check the tracer against: upstream SAM 2's mask
// computed pixel by pixel. The product never rasterises a mask this way (it traces the outline
// with `logitsToShape` in src-main/core/segment/mask-geometry.ts), so it lives with the tests.

import { checkGrid } from '../../src-main/core/segment/mask-geometry.ts'

/** A pixel rectangle [x0, x1) x [y0, y1) of the original image. */
export interface PixelCrop {
  x0: number
  y0: number
  x1: number
  y1: number
}

/**
 * Per output pixel along one axis: the two source samples and the weight of the second one,
 * exactly as PyTorch's bilinear interpolation with align_corners = false computes them.
 */
function axisWeights(n: number, outSize: number, start: number, end: number) {
  const len = end - start
  const i0 = new Int32Array(len)
  const i1 = new Int32Array(len)
  const w1 = new Float64Array(len)
  const scale = n / outSize
  for (let j = start; j < end; j++) {
    let s = (j + 0.5) * scale - 0.5
    if (s < 0) s = 0
    const a = Math.min(Math.floor(s), n - 1)
    i0[j - start] = a
    i1[j - start] = a < n - 1 ? a + 1 : a
    w1[j - start] = Math.min(Math.max(s - a, 0), 1)
  }
  return { i0, i1, w1 }
}

/**
 * Upstream's mask: bilinear resize of the logits to width x height (align_corners = false),
 * threshold > 0. Row-major, 1 inside. With `crop`, only the pixels of [x0, x1) x [y0, y1) are
 * computed and returned (row-major over the crop), so large images need not be materialised.
 */
export function referenceMask(
  logits: Float32Array,
  gridW: number,
  gridH: number,
  width: number,
  height: number,
  crop?: PixelCrop,
): Uint8Array {
  checkGrid(logits, gridW, gridH, width, height)
  const x0 = crop?.x0 ?? 0
  const y0 = crop?.y0 ?? 0
  const x1 = crop?.x1 ?? width
  const y1 = crop?.y1 ?? height
  if (!(0 <= x0 && x0 <= x1 && x1 <= width && 0 <= y0 && y0 <= y1 && y1 <= height)) {
    throw new RangeError(`crop ${x0},${y0}-${x1},${y1} is not inside the ${width}x${height} image`)
  }
  const cw = x1 - x0
  const ch = y1 - y0
  const out = new Uint8Array(cw * ch)
  if (cw === 0 || ch === 0) return out
  const cols = axisWeights(gridW, width, x0, x1)
  const rows = axisWeights(gridH, height, y0, y1)
  // Horizontal pass once per source row that the crop needs; then each output row blends two.
  const rowFirst = rows.i0[0]
  const rowLast = rows.i1[ch - 1]
  const horizontal = new Float64Array((rowLast - rowFirst + 1) * cw)
  for (let r = rowFirst; r <= rowLast; r++) {
    const src = r * gridW
    const dst = (r - rowFirst) * cw
    for (let x = 0; x < cw; x++) {
      const w = cols.w1[x]
      horizontal[dst + x] = (1 - w) * logits[src + cols.i0[x]] + w * logits[src + cols.i1[x]]
    }
  }
  for (let y = 0; y < ch; y++) {
    const a = (rows.i0[y] - rowFirst) * cw
    const b = (rows.i1[y] - rowFirst) * cw
    const w = rows.w1[y]
    const o = y * cw
    for (let x = 0; x < cw; x++) {
      if ((1 - w) * horizontal[a + x] + w * horizontal[b + x] > 0) out[o + x] = 1
    }
  }
  return out
}
