// An annotation's shape as a COCO `segmentation` with the `area` and `bbox` that go with it.
// Polygons are what most COCO tools read best, but COCO (pycocotools) unions the polygons of
// one annotation and has no notion of holes; so a shape with holes is written as compressed
// RLE instead.
//
// Geometry is decided here, once, for everything main stores (a SAM mask, a hand-drawn or
// vertex-edited polygon, a combined mask, a COCO import): the area of an annotation is the pixel
// count of its rasterised mask, pixel centres inside, as pycocotools computes it, and the bbox
// is that mask's bounding box (pycocotools' rleToBbox). So the three fields always agree, and a
// polygon has the same area as the RLE of the same pixels. No client sends area or bbox.

import type { Shape } from './mask-geometry.ts'
import { UserError } from '../errors.ts'
import { ringArea } from './mask-geometry.ts'
import { rasterizeShape, rleArea, rleFromString, rleToBbox, rleToString, type Rle } from './rle.ts'
import type { Bbox, Ring, Segmentation } from '../../../src-preload/contract/schemas.ts'

export interface CocoSegmentation {
  /** One flat [x0, y0, x1, y1, ...] list per part (2 decimals), or compressed RLE when any part has holes. */
  segmentation: Segmentation
  /** Pixel count of the rasterised shape (pixel centres inside). */
  area: number
  /** [x, y, w, h] of the rasterised shape (pycocotools' rleToBbox). */
  bbox: Bbox
  hasHoles: boolean
}

/** A decoded candidate's outline (what the renderer draws) with the COCO geometry stored from it. */
export type ShapeGeometry = CocoSegmentation & { shape: Shape }

function round2(v: number): number {
  return Math.round(v * 100) / 100
}

export function toCocoSegmentation(shape: Shape, width: number, height: number): CocoSegmentation {
  const hasHoles = shape.parts.some((p) => p.holes.length > 0)
  if (hasHoles) {
    const rle = rasterizeShape(shape, width, height)
    return { segmentation: rleToString(rle), ...maskMeasures(rle), hasHoles }
  }
  // Area and bbox from the polygons exactly as written (rounded), so they agree with the file.
  const polygons = shape.parts.map((p) => p.outer.map(round2))
  const rle = rasterizeShape({ parts: polygons.map((outer) => ({ outer, holes: [] })) }, width, height)
  return { segmentation: polygons, ...maskMeasures(rle), hasHoles }
}

/** Area (pixel count) and bbox of a mask: the one definition of both (see the top of this file). */
export function maskMeasures(rle: Rle): { area: number; bbox: Bbox } {
  return { area: rleArea(rle), bbox: rleToBbox(rle) }
}

/** Area and bbox of a stored segmentation on a width x height image. */
export function segmentationMeasures(seg: Segmentation, width: number, height: number): { area: number; bbox: Bbox } {
  if (Array.isArray(seg))
    return maskMeasures(rasterizeShape({ parts: seg.map((outer) => ({ outer, holes: [] })) }, width, height))
  if (seg.size[0] !== height || seg.size[1] !== width) {
    throw new UserError(
      'segmentation-size',
      `RLE of size ${seg.size[1]}x${seg.size[0]} does not match the ${width}x${height} image`,
    )
  }
  return maskMeasures(rleFromString(seg))
}

function showRing(ring: readonly number[]): string {
  const text = ring.slice(0, 8).join(',')
  return ring.length > 8 ? `[${text},...]` : `[${text}]`
}

/**
 * A polygon annotation from rings in image pixels (a hand-drawn polygon, vertex edits): each
 * ring is checked (finite, inside the image, at least 3 distinct points, an area), rounded to 2
 * decimals as every stored polygon is, and measured by rasterisation. Refuses, naming the ring
 * and value, what cannot be a polygon of this image.
 */
export function polygonGeometry(
  rings: readonly (readonly number[])[],
  width: number,
  height: number,
): CocoSegmentation {
  if (rings.length === 0) throw new UserError('annotation-rings', 'a polygon needs at least one ring')
  const polygons: Ring[] = rings.map((ring, r) => {
    if (ring.length < 6 || ring.length % 2 !== 0) {
      throw new UserError(
        'annotation-rings',
        `ring ${r} has ${ring.length} numbers; a ring needs an even count of at least 6 (3 points)`,
      )
    }
    const out: Ring = []
    for (let i = 0; i < ring.length; i += 2) {
      const x = ring[i],
        y = ring[i + 1]
      if (!Number.isFinite(x) || !Number.isFinite(y))
        throw new UserError('annotation-rings', `ring ${r} point ${i / 2} (${x},${y}) is not two finite numbers`)
      if (x < 0 || y < 0 || x > width || y > height) {
        throw new UserError(
          'annotation-rings',
          `ring ${r} point ${i / 2} (${x},${y}) is outside the ${width}x${height} image`,
        )
      }
      const rx = round2(x),
        ry = round2(y)
      const n = out.length
      if (n >= 2 && out[n - 2] === rx && out[n - 1] === ry) continue
      out.push(rx, ry)
    }
    while (out.length >= 4 && out[0] === out[out.length - 2] && out[1] === out[out.length - 1]) out.length -= 2
    if (out.length < 6)
      throw new UserError('annotation-rings', `ring ${r} ${showRing(ring)} has fewer than 3 distinct points`)
    if (ringArea(out) === 0)
      throw new UserError(
        'annotation-rings',
        `ring ${r} ${showRing(ring)} encloses no area (its points are on one line)`,
      )
    return out
  })
  checkRasterCost(polygons, width, `the polygon ${showRing(rings[0])}`)
  const rle = rasterizeShape({ parts: polygons.map((outer) => ({ outer, holes: [] })) }, width, height)
  const { area, bbox } = maskMeasures(rle)
  if (area === 0)
    throw new UserError('annotation-rings', `the polygon ${showRing(rings[0])} covers no pixel centre of the image`)
  return { segmentation: polygons, area, bbox, hasHoles: false }
}

/**
 * Most edge/column crossings a client's polygon may take to rasterise. Rasterising costs about
 * half a microsecond per crossing and runs in main, so a ring of 10^5 vertices zigzagging across
 * a tall image (3 * 10^7 crossings) held main, and with it every window, for 16 s. An outline,
 * however detailed, crosses each column a few dozen times at most: 2 * 10^6 is 200 crossings per
 * column of a 10000-pixel-wide image.
 */
export const MAX_RASTER_CROSSINGS = 2_000_000

/**
 * Why polygons are too tangled to rasterise in bounded time (MAX_RASTER_CROSSINGS), or null:
 * every polygon main measures is checked first, whether a client drew it, a file brought it or
 * an older build stored it.
 */
export function rasterCostProblem(polygons: readonly Ring[], width: number): string | null {
  const crossings = polygons.reduce((sum, ring) => sum + columnCrossings(ring, width), 0)
  if (crossings <= MAX_RASTER_CROSSINGS) return null
  return `its edges cross the image's pixel columns ${crossings} times (at most ${MAX_RASTER_CROSSINGS})`
}

/** Refuses, naming `what`, polygons too tangled to measure (rasterCostProblem). */
export function checkRasterCost(polygons: readonly Ring[], width: number, what: string): void {
  const problem = rasterCostProblem(polygons, width)
  if (problem !== null) throw new UserError('annotation-rings', `${what} is too tangled to measure: ${problem}`)
}

/** An upper bound of the pixel columns a ring's edges cross (what rasterising it visits). */
function columnCrossings(ring: Ring, width: number): number {
  let sum = 0
  for (let i = 0; i < ring.length; i += 2) {
    const j = (i + 2) % ring.length
    sum += Math.min(width, Math.ceil(Math.abs(ring[j] - ring[i])) + 1)
  }
  return sum
}
