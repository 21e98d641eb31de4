// Operations on saved masks: an annotation's segmentation (COCO polygons or compressed RLE) as
// a pixel mask, its outline, set operations between two masks (add the current mask to a
// saved annotation, or cut it away), and the low-resolution logits that let SAM continue
// refining from a saved annotation (its mask as the first `mask_input`).

import { LOW_RES_SIZE } from './model-interface.ts'
import { DEFAULT_MIN_AREA, logitsToShape, type Ring, type Shape } from './mask-geometry.ts'
import { rasterizeShape, rleFromString, rleToBbox, type Rle } from './rle.ts'
import type { OutlinePart, Segmentation } from '../../../src-preload/contract/schemas.ts'
import { toCocoSegmentation, type CocoSegmentation } from './segmentation.ts'
import { UserError } from '../errors.ts'

/** Douglas–Peucker tolerance for outlines traced from RLE: half a pixel keeps IoU >= 0.99 on all but specks. */
const RLE_OUTLINE_TOLERANCE = 0.35

/** Magnitude of the logits made from a saved mask: firmly in or out, like SAM's own confident logits. */
const PRIOR_LOGIT = 16

/** The segmentation as a column-major RLE of the image. */
export function segmentationToRle(seg: Segmentation, width: number, height: number): Rle {
  if (Array.isArray(seg)) return rasterizeShape({ parts: seg.map((outer) => ({ outer, holes: [] })) }, width, height)
  if (seg.size[0] !== height || seg.size[1] !== width) {
    throw new UserError(
      'segmentation-size',
      `RLE of size ${seg.size[1]}x${seg.size[0]} does not match the ${width}x${height} image`,
    )
  }
  return rleFromString(seg)
}

export interface RleToShapeOptions {
  /** Douglas–Peucker tolerance in image pixels. */
  tolerance?: number
  /** Parts and holes smaller than this many square pixels are dropped; 0 keeps every pixel. */
  minArea?: number
  /**
   * Most grid cells along either side of the traced crop. A larger mask is traced from the
   * share of each cell's pixels inside it, whose 0-level keeps edges to within a cell; so the
   * cost is bounded by maxGrid² instead of the image's pixel count. Default: pixel resolution.
   */
  maxGrid?: number
}

/**
 * The mask's outline as a shape (parts largest first, each with its holes), in image pixels.
 * Works on the mask's bounding box plus a one-pixel margin, never on the whole image.
 */
export function rleToShape(rle: Rle, options: RleToShapeOptions = {}): Shape {
  const { tolerance = RLE_OUTLINE_TOLERANCE, minArea = 0, maxGrid = Infinity } = options
  const [height, width] = rle.size
  const [bx, by, bw, bh] = rleToBbox(rle)
  if (bw === 0 || bh === 0) return { parts: [] }
  const x0 = Math.max(0, bx - 1),
    y0 = Math.max(0, by - 1)
  const x1 = Math.min(width, bx + bw + 1),
    y1 = Math.min(height, by + bh + 1)
  const cw = x1 - x0,
    ch = y1 - y0
  const scale = Math.max(1, cw / maxGrid, ch / maxGrid)
  const gw = Math.min(cw, Math.ceil(cw / scale)),
    gh = Math.min(ch, Math.ceil(ch / scale))
  // Pixel centre → grid cell, as SAM's low-resolution cells map to the image.
  const cellOfX = new Int32Array(cw)
  for (let x = 0; x < cw; x++) cellOfX[x] = Math.min(gw - 1, Math.floor(((x + 0.5) * gw) / cw))
  const cellOfY = new Int32Array(ch)
  for (let y = 0; y < ch; y++) cellOfY[y] = Math.min(gh - 1, Math.floor(((y + 0.5) * gh) / ch))
  const inside = new Float32Array(gw * gh)
  // Walk the runs (column-major) and count the foreground pixels that fall in the crop.
  let pos = 0
  for (let j = 0; j < rle.counts.length; j++) {
    const c = rle.counts[j]
    if (j & 1) {
      for (let k = pos; k < pos + c;) {
        const x = Math.floor(k / height)
        const yStart = k - x * height
        const yEnd = Math.min(height, yStart + (pos + c - k))
        if (x >= x0 && x < x1) {
          const from = Math.max(yStart, y0),
            to = Math.min(yEnd, y1)
          const cx = cellOfX[x - x0]
          for (let y = from; y < to; y++) inside[cellOfY[y - y0] * gw + cx]++
        }
        k += yEnd - yStart
      }
    }
    pos += c
  }
  const perCellX = new Float32Array(gw)
  for (let x = 0; x < cw; x++) perCellX[cellOfX[x]]++
  const perCellY = new Float32Array(gh)
  for (let y = 0; y < ch; y++) perCellY[cellOfY[y]]++
  // At pixel resolution this is ±1 per pixel; coarser, each cell's share inside puts its edge
  // crossings where the covered fraction says.
  const field = inside
  for (let cy = 0; cy < gh; cy++) {
    for (let cx = 0; cx < gw; cx++) {
      const i = cy * gw + cx
      field[i] = (2 * inside[i]) / (perCellX[cx] * perCellY[cy]) - 1
    }
  }
  // The crop is the tracer's whole "image": where it is cut at the margin the field is -1, so
  // nothing is traced there; where it meets the real image border the outline is pinned to it.
  const local = logitsToShape(field, gw, gh, cw, ch, { tolerance, minArea })
  const shift = (ring: Ring): Ring => ring.map((v, i) => (i & 1 ? v + y0 : v + x0))
  return { parts: local.parts.map((p) => ({ outer: shift(p.outer), holes: p.holes.map(shift) })) }
}

/**
 * Grid cells along the longer side of an outline's crop at most: the resolution of the model's
 * own full-size masks. Outlines are for drawing and hit-testing; the stored mask keeps every
 * pixel, and exports and measures use it, never the outline.
 */
export const OUTLINE_MAX_GRID = 1024

/**
 * The outline main sends with every annotation, for drawing and hit-testing: polygons are their
 * own outline (each ring a part without holes, as COCO unions them); RLE is traced, bounded in
 * cost by OUTLINE_MAX_GRID and dropping specks below the area a decode's polygons drop.
 */
export function outlineOf(seg: Segmentation): OutlinePart[] {
  if (Array.isArray(seg)) return seg.map((outer) => ({ outer, holes: [] }))
  return rleToShape(rleFromString(seg), { maxGrid: OUTLINE_MAX_GRID, minArea: DEFAULT_MIN_AREA }).parts
}

/** Union or difference of two masks of the same image, run by run (no full-size bitmap). */
export function combineRle(a: Rle, b: Rle, op: 'add' | 'subtract'): Rle {
  if (a.size[0] !== b.size[0] || a.size[1] !== b.size[1]) throw new RangeError('masks of different sizes')
  const total = a.size[0] * a.size[1]
  // Boundaries where each mask flips, as positions in column-major order.
  const flips = (r: Rle): number[] => {
    const out: number[] = []
    let pos = 0
    for (const c of r.counts) {
      pos += c
      out.push(pos)
    }
    return out
  }
  const fa = flips(a)
  const fb = flips(b)
  const counts: number[] = []
  let ia = 0,
    ib = 0,
    inA = false,
    inB = false,
    pos = 0,
    value = false,
    run = 0
  while (pos < total) {
    const next = Math.min(fa[ia] ?? total, fb[ib] ?? total)
    const inside = op === 'add' ? inA || inB : inA && !inB
    if (inside !== value) {
      counts.push(run)
      run = 0
      value = inside
    }
    run += next - pos
    pos = next
    while (ia < fa.length && fa[ia] === pos) {
      inA = !inA
      ia++
    }
    while (ib < fb.length && fb[ib] === pos) {
      inB = !inB
      ib++
    }
  }
  counts.push(run)
  return { size: [a.size[0], a.size[1]], counts }
}

/** A mask back to what an annotation stores: polygons, or RLE when it has holes. */
export function rleToSegmentation(rle: Rle): CocoSegmentation {
  const [height, width] = rle.size
  return toCocoSegmentation(rleToShape(rle), width, height)
}

/**
 * Adds `other` to `base`, or cuts it away: for "fix a missed part" and "cut an overlap" without
 * redrawing. Throws a UserError when nothing would be left.
 */
export function combineSegmentations(
  base: Segmentation,
  other: Segmentation,
  op: 'add' | 'subtract',
  width: number,
  height: number,
): CocoSegmentation {
  const result = rleToSegmentation(
    combineRle(segmentationToRle(base, width, height), segmentationToRle(other, width, height), op),
  )
  if (result.area === 0)
    throw new UserError(
      'empty-result',
      `${op === 'subtract' ? 'subtracting' : 'adding'} the mask leaves nothing of the annotation`,
    )
  return result
}

/**
 * The saved mask as 256x256 decoder logits, the same geometry as SAM's low-resolution masks
 * (cell i covers [i·W/256, (i+1)·W/256) of the image): each cell's value follows the share of
 * its pixels inside the mask, so half-covered edge cells sit near 0 and keep the edge's
 * sub-cell position.
 */
export function segmentationToLowResLogits(seg: Segmentation, width: number, height: number): Float32Array {
  const rle = segmentationToRle(seg, width, height)
  const n = LOW_RES_SIZE
  const inside = new Float64Array(n * n)
  const cellOfX = new Int32Array(width)
  for (let x = 0; x < width; x++) cellOfX[x] = Math.min(n - 1, Math.floor(((x + 0.5) * n) / width))
  const cellOfY = new Int32Array(height)
  for (let y = 0; y < height; y++) cellOfY[y] = Math.min(n - 1, Math.floor(((y + 0.5) * n) / height))
  let pos = 0
  for (let j = 0; j < rle.counts.length; j++) {
    const c = rle.counts[j]
    if (j & 1) {
      for (let k = pos; k < pos + c; k++) {
        const x = Math.floor(k / height)
        const y = k - x * height
        inside[cellOfY[y] * n + cellOfX[x]]++
      }
    }
    pos += c
  }
  const perCellX = new Float64Array(n)
  for (let x = 0; x < width; x++) perCellX[cellOfX[x]]++
  const perCellY = new Float64Array(n)
  for (let y = 0; y < height; y++) perCellY[cellOfY[y]]++
  // On images narrower or shorter than 256 px some cells hold no pixel centre: they take the
  // value of the cell holding the pixel under their own centre.
  const sourceX = Int32Array.from({ length: n }, (_, c) =>
    perCellX[c] > 0 ? c : cellOfX[Math.min(width - 1, Math.floor(((c + 0.5) * width) / n))],
  )
  const sourceY = Int32Array.from({ length: n }, (_, c) =>
    perCellY[c] > 0 ? c : cellOfY[Math.min(height - 1, Math.floor(((c + 0.5) * height) / n))],
  )
  const logits = new Float32Array(n * n)
  for (let cy = 0; cy < n; cy++) {
    for (let cx = 0; cx < n; cx++) {
      const sx = sourceX[cx]
      const sy = sourceY[cy]
      const share = inside[sy * n + sx] / (perCellX[sx] * perCellY[sy])
      logits[cy * n + cx] = (2 * share - 1) * PRIOR_LOGIT
    }
  }
  return logits
}
