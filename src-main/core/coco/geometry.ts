// Geometry rules shared by COCO export, YOLO export and COCO import: what a stored
// segmentation becomes in a file, and the area and bbox that go with it.
//
// - Polygons are clamped into the image ([0, W] x [0, H]), rounded to 2 decimals, and kept only
//   with at least 3 distinct points and a non-zero area; pycocotools unions the polygons of an
//   annotation, and so does our rasteriser (each polygon is its own part).
// - Area and bbox always come from the pixel-centre rasterisation of exactly what is written
//   (segment/rle.ts), so the three fields agree; a polygon's area matches pycocotools' own
//   rasterisation to within its rounding at the outline.
// - RLE becomes polygons by tracing the mask's outline: the mask is read as a field (+1 inside,
//   -1 outside, one sample per pixel centre) and handed to the SAM outline tracer, whose 0-level
//   then runs along pixel edges, cuts corners diagonally, and rasterises back to the same
//   pixels before simplification.

import { ringArea, type Ring, type Shape } from '../segment/mask-geometry.ts'
import { rleToShape } from '../segment/mask-ops.ts'
import { rasterizeShape, rleArea, rleFromString, rleToBbox, rleToString, type Rle } from '../segment/rle.ts'
import { rasterCostProblem } from '../segment/segmentation.ts'
import type { CompressedRle, Segmentation } from '../../../src-preload/contract/schemas.ts'

export type SegmentationMode = 'auto' | 'polygon' | 'rle'

export interface ExportGeometry {
  segmentation: Segmentation
  area: number
  bbox: [number, number, number, number]
  /** Holes that polygon output had to leave out (0 when none). */
  droppedHoles: number
  /** The stored segmentation is written exactly as it is (so its stored JSON text can be). */
  verbatim?: boolean
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}

/**
 * The ring clamped into [0, W] x [0, H] and rounded to 2 decimals, consecutive duplicates (and
 * a repeated first point) removed; null when fewer than 3 distinct points or no area remain.
 */
export function cleanRing(ring: readonly number[], width: number, height: number): Ring | null {
  const out: Ring = []
  for (let i = 0; i + 1 < ring.length; i += 2) {
    const x = round2(Math.min(Math.max(ring[i], 0), width))
    const y = round2(Math.min(Math.max(ring[i + 1], 0), height))
    const n = out.length
    if (n >= 2 && out[n - 2] === x && out[n - 1] === y) continue
    out.push(x, y)
  }
  while (out.length >= 4 && out[0] === out[out.length - 2] && out[1] === out[out.length - 1]) out.length -= 2
  if (out.length < 6 || ringArea(out) === 0) return null
  return out
}

/** Polygons as a shape: each polygon its own part (COCO unions them). */
export function polygonsToShape(polygons: readonly Ring[]): Shape {
  return { parts: polygons.map((outer) => ({ outer, holes: [] })) }
}

export function decodeStoredRle(seg: CompressedRle): Rle {
  return rleFromString(seg)
}

/** Holes in a shape (what polygon output leaves out). */
export function countHoles(shape: Shape): number {
  let n = 0
  for (const p of shape.parts) n += p.holes.length
  return n
}

function fromRle(rle: Rle): { area: number; bbox: [number, number, number, number] } {
  return { area: rleArea(rle), bbox: rleToBbox(rle) }
}

/** The area and bbox saved with an annotation. */
export interface StoredMeasures {
  area: number
  bbox: readonly [number, number, number, number] | readonly number[]
}

/**
 * Whether saved measures can stand for an unchanged segmentation. The store saves them from
 * the same rasterisation (segment/segmentation.ts, and import below); this cheap check only
 * guards against values that cannot be right (outside the image, more pixels than the box),
 * which are then recomputed.
 */
function plausible(stored: StoredMeasures | undefined, width: number, height: number): stored is StoredMeasures {
  if (!stored) return false
  const [x, y, w, h] = stored.bbox
  const area = stored.area
  return (
    Number.isInteger(area) &&
    area > 0 &&
    Number.isInteger(x) &&
    Number.isInteger(y) &&
    Number.isInteger(w) &&
    Number.isInteger(h) &&
    x >= 0 &&
    y >= 0 &&
    w > 0 &&
    h > 0 &&
    x + w <= width &&
    y + h <= height &&
    area <= w * h
  )
}

function sameRing(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * What one stored segmentation is written as, for an image of width x height; null when nothing
 * of it is left inside the image (no valid polygon, or no pixel).
 *
 * - 'auto': polygons stay polygons, RLE (objects with holes, or imported masks) stays RLE.
 * - 'polygon': RLE is traced to polygons; holes are dropped and counted.
 * - 'rle': everything as compressed RLE.
 *
 * Area and bbox are recomputed whenever what is written differs from what was saved (clamped,
 * rounded, converted); for an unchanged segmentation the saved measures are used when
 * plausible, which keeps a 100,000-annotation export within seconds.
 */
export function exportGeometry(
  seg: Segmentation,
  width: number,
  height: number,
  mode: SegmentationMode,
  stored?: StoredMeasures,
): ExportGeometry | null {
  if (Array.isArray(seg)) {
    const polygons: Ring[] = []
    let unchanged = true
    for (const ring of seg) {
      const clean = cleanRing(ring, width, height)
      if (clean) polygons.push(clean)
      if (!clean || !sameRing(clean, ring)) unchanged = false
    }
    if (polygons.length === 0) return null
    if (mode !== 'rle' && unchanged && plausible(stored, width, height)) {
      return {
        segmentation: polygons,
        area: stored.area,
        bbox: [stored.bbox[0], stored.bbox[1], stored.bbox[2], stored.bbox[3]],
        droppedHoles: 0,
        verbatim: true,
      }
    }
    // Stored by an older build or by hand, a polygon can be too tangled to rasterise in bounded
    // time; it is then skipped as invalid, like an RLE that is not a mask.
    const problem = rasterCostProblem(polygons, width)
    if (problem !== null) throw new RangeError(`the polygon is too tangled to measure: ${problem}`)
    const rle = rasterizeShape(polygonsToShape(polygons), width, height)
    const { area, bbox } = fromRle(rle)
    if (area === 0) return null
    return { segmentation: mode === 'rle' ? rleToString(rle) : polygons, area, bbox, droppedHoles: 0 }
  }
  if (seg.size[0] !== height || seg.size[1] !== width) {
    throw new RangeError(
      `RLE size [${seg.size.join(', ')}] does not match the image ([height, width] = [${height}, ${width}])`,
    )
  }
  if (mode !== 'polygon') {
    const segmentation: CompressedRle = { size: [height, width], counts: seg.counts }
    // The counts are decoded, never trusted: an RLE that is not a mask of its size must not
    // reach a file (our own importer, like any reader, would refuse it), and its area and bbox
    // come from the mask itself, not from what was stored beside it.
    const { area, bbox } = fromRle(decodeStoredRle(seg))
    if (area === 0) return null
    return { segmentation, area, bbox, droppedHoles: 0 }
  }
  const shape = rleToShape(decodeStoredRle(seg))
  const droppedHoles = countHoles(shape)
  const polygons: Ring[] = []
  for (const part of shape.parts) {
    const clean = cleanRing(part.outer, width, height)
    if (clean) polygons.push(clean)
  }
  if (polygons.length === 0) return null
  const { area, bbox } = fromRle(rasterizeShape(polygonsToShape(polygons), width, height))
  if (area === 0) return null
  return { segmentation: polygons, area, bbox, droppedHoles }
}

/**
 * Outer rings of a stored segmentation, for formats that only know simple polygons (YOLO):
 * clamped and cleaned like COCO polygons; RLE is traced. Holes are returned as a count.
 */
export function outerPolygons(
  seg: Segmentation,
  width: number,
  height: number,
): { polygons: Ring[]; droppedHoles: number } {
  if (Array.isArray(seg)) {
    const polygons: Ring[] = []
    for (const ring of seg) {
      const clean = cleanRing(ring, width, height)
      if (clean) polygons.push(clean)
    }
    return { polygons, droppedHoles: 0 }
  }
  const rle = decodeStoredRle(seg)
  if (rle.size[0] !== height || rle.size[1] !== width) {
    throw new RangeError(
      `RLE size [${rle.size.join(', ')}] does not match the image ([height, width] = [${height}, ${width}])`,
    )
  }
  const shape = rleToShape(rle)
  const polygons: Ring[] = []
  for (const part of shape.parts) {
    const clean = cleanRing(part.outer, width, height)
    if (clean) polygons.push(clean)
  }
  return { polygons, droppedHoles: countHoles(shape) }
}
