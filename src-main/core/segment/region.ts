// Region encoding: the encoder sees 1024x1024 pixels whatever the image, so on an 8000x6000
// photo a 20-pixel object is under 3 encoder pixels and under one low-resolution mask cell,
// and cannot be segmented. When the user is zoomed in, the encoder runs on the visible region
// instead: the view padded to a square around its centre (SAM stretches to a square, so a
// square region keeps the aspect ratio), clipped to the image. Prompts are mapped into the
// region's frame, the low-resolution logits cover the region, and polygons are placed back in
// full-image pixels here.

import { UserError } from '../errors.ts'
import { LOW_RES_SIZE } from './model-interface.ts'
import { logitsToShape, type Shape } from './mask-geometry.ts'
import { rleDecode, rleEncode, rleToString } from './rle.ts'
import { toCocoSegmentation, type ShapeGeometry } from './segmentation.ts'
import { segmentationToLowResLogits, segmentationToRle } from './mask-ops.ts'
import type { Segmentation } from '../../../src-preload/contract/schemas.ts'

/** A rectangle of whole image pixels, [x0, x1) x [y0, y1), after EXIF orientation. */
export interface Region {
  x0: number
  y0: number
  x1: number
  y1: number
}

export function regionWidth(r: Region): number {
  return r.x1 - r.x0
}

export function regionHeight(r: Region): number {
  return r.y1 - r.y0
}

/** The region as the text that goes into cache keys and messages: `x0,y0,x1,y1`. */
export function regionKey(r: Region): string {
  return `${r.x0},${r.y0},${r.x1},${r.y1}`
}

/** Parses regionKey's text back (a cache entry's header); null when it is not one. */
export function parseRegionKey(text: string): Region | null {
  const parts = text.split(',').map(Number)
  if (parts.length !== 4 || !parts.every((n) => Number.isSafeInteger(n) && n >= 0)) return null
  const [x0, y0, x1, y1] = parts
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : null
}

/** Refuses a region that is not whole pixels inside the image, naming it. */
export function checkRegion(r: Region, width: number, height: number): void {
  const values = [r.x0, r.y0, r.x1, r.y1]
  if (!values.every(Number.isSafeInteger))
    throw new UserError('bad-argument', `region ${values.join(',')}: coordinates must be whole pixels`)
  if (r.x0 < 0 || r.y0 < 0 || r.x1 > width || r.y1 > height || r.x1 <= r.x0 || r.y1 <= r.y0) {
    throw new UserError(
      'bad-argument',
      `region ${regionKey(r)}: must be a non-empty rectangle inside the ${width}x${height} image`,
    )
  }
}

/**
 * A square of `side` pixels centred on (cx, cy), clipped to the image, in whole pixels; null
 * when the clipped square is the whole image (then the whole-image embedding serves, and is
 * shared with every other prompt on the image).
 */
export function squareAround(cx: number, cy: number, side: number, width: number, height: number): Region | null {
  const s = Math.max(1, Math.ceil(side))
  const x0 = Math.floor(cx - s / 2)
  const y0 = Math.floor(cy - s / 2)
  const r = {
    x0: Math.max(0, x0),
    y0: Math.max(0, y0),
    x1: Math.min(width, x0 + s),
    y1: Math.min(height, y0 + s),
  }
  if (r.x0 === 0 && r.y0 === 0 && r.x1 === width && r.y1 === height) return null
  if (r.x1 <= r.x0 || r.y1 <= r.y0) return null
  return r
}

/**
 * The region the encoder runs on for a view (what the user sees, in image pixels, possibly
 * reaching past the image): padded to a square of its longer side around its centre, clipped
 * to the image. Null when that is the whole image.
 */
export function encodingRegion(
  view: { x0: number; y0: number; x1: number; y1: number },
  width: number,
  height: number,
): Region | null {
  const x0 = Math.min(view.x0, view.x1),
    x1 = Math.max(view.x0, view.x1)
  const y0 = Math.min(view.y0, view.y1),
    y1 = Math.max(view.y0, view.y1)
  if (![x0, y0, x1, y1].every(Number.isFinite) || x1 <= x0 || y1 <= y0)
    throw new UserError('bad-argument', `region ${view.x0},${view.y0},${view.x1},${view.y1}: has no area`)
  if (x1 <= 0 || y1 <= 0 || x0 >= width || y0 >= height)
    throw new UserError(
      'bad-argument',
      `region ${view.x0},${view.y0},${view.x1},${view.y1}: lies outside the ${width}x${height} image`,
    )
  return squareAround((x0 + x1) / 2, (y0 + y1) / 2, Math.max(x1 - x0, y1 - y0), width, height)
}

/** The region of an embedding, or the whole image. */
export function frameOf(embedding: { width: number; height: number; region?: Region | null }): Region {
  return embedding.region ?? { x0: 0, y0: 0, x1: embedding.width, y1: embedding.height }
}

/**
 * Whether the mask of these low-resolution logits reaches a side of the region that lies inside
 * the image: the object may continue outside the view. A side on the image's own edge does not
 * count. The outer row or column of cells decides: the upsampled mask's border pixels take
 * their values from it (align_corners = false clamps at the edge).
 */
export function touchesRegionBorder(
  logits: Float32Array,
  region: Region | null | undefined,
  width: number,
  height: number,
): boolean {
  if (!region) return false
  const n = LOW_RES_SIZE
  const row = (y: number) => {
    for (let x = 0; x < n; x++) if (logits[y * n + x] > 0) return true
    return false
  }
  const column = (x: number) => {
    for (let y = 0; y < n; y++) if (logits[y * n + x] > 0) return true
    return false
  }
  return (
    (region.y0 > 0 && row(0)) ||
    (region.y1 < height && row(n - 1)) ||
    (region.x0 > 0 && column(0)) ||
    (region.x1 < width && column(n - 1))
  )
}

/** A shape moved by (dx, dy). */
export function offsetShape(shape: Shape, dx: number, dy: number): Shape {
  const move = (ring: readonly number[]) => ring.map((v, i) => v + (i % 2 === 0 ? dx : dy))
  return { parts: shape.parts.map((p) => ({ outer: move(p.outer), holes: p.holes.map(move) })) }
}

/**
 * Polygons and COCO geometry of a region's logits, in full-image pixels: traced in the
 * region's frame, moved by its corner, measured on the whole image.
 */
export function regionShapeGeometry(
  logits: Float32Array,
  region: Region,
  width: number,
  height: number,
  options: { tolerance?: number; minArea?: number } = {},
): ShapeGeometry {
  const local = logitsToShape(logits, LOW_RES_SIZE, LOW_RES_SIZE, regionWidth(region), regionHeight(region), options)
  const shape = offsetShape(local, region.x0, region.y0)
  return { shape, ...toCocoSegmentation(shape, width, height) }
}

/** A saved mask (full-image segmentation) as low-resolution logits over a region: re-prompting on a region. */
export function regionLowResLogits(seg: Segmentation, region: Region, width: number, height: number): Float32Array {
  const full = rleDecode(segmentationToRle(seg, width, height))
  const rw = regionWidth(region),
    rh = regionHeight(region)
  const crop = new Uint8Array(rw * rh)
  for (let y = 0; y < rh; y++) {
    const from = (y + region.y0) * width + region.x0
    crop.set(full.subarray(from, from + rw), y * rw)
  }
  return segmentationToLowResLogits(rleToString(rleEncode(crop, rw, rh)), rw, rh)
}
