// An annotation's shape as a COCO `segmentation` with the `area` and `bbox` that go with it.
// Polygons are what most COCO tools read best, but COCO (pycocotools) unions the polygons of
// one annotation and has no notion of holes; so a shape with holes is written as compressed
// RLE instead. Area and bbox always come from our pixel-centre rasterisation of the shape,
// so the three fields agree with each other.

import type { Shape } from './mask-geometry.ts'
import { rasterizeShape, rleArea, rleToBbox, rleToString } from './rle.ts'
import type { Bbox, Segmentation } from '../../../src-preload/contract/schemas.ts'

export interface CocoSegmentation {
  /** One flat [x0, y0, x1, y1, ...] list per part (2 decimals), or compressed RLE when any part has holes. */
  segmentation: Segmentation
  /** Pixel count of the rasterised shape. */
  area: number
  /** [x, y, w, h] of the rasterised shape (pycocotools' rleToBbox). */
  bbox: Bbox
  hasHoles: boolean
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}

export function toCocoSegmentation(shape: Shape, width: number, height: number): CocoSegmentation {
  const hasHoles = shape.parts.some((p) => p.holes.length > 0)
  if (hasHoles) {
    const rle = rasterizeShape(shape, width, height)
    return { segmentation: rleToString(rle), area: rleArea(rle), bbox: rleToBbox(rle), hasHoles }
  }
  // Area and bbox from the polygons exactly as written (rounded), so they agree with the file.
  const polygons = shape.parts.map((p) => p.outer.map(round2))
  const rle = rasterizeShape({ parts: polygons.map((outer) => ({ outer, holes: [] })) }, width, height)
  return { segmentation: polygons, area: rleArea(rle), bbox: rleToBbox(rle), hasHoles }
}
