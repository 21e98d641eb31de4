// The geometry main computes for the app, as plain functions of plain data, so they can run in a
// worker thread (geometry-worker.ts): turning a decoded candidate into polygons, measuring a
// client's rings, combining two masks, tracing a saved mask's outline, and a saved mask as the
// decoder's first mask input. Each can take seconds on a fragmented mask of a large image; on
// the Electron main thread that would freeze every window and IPC answer meanwhile.
import { logitsToShape, type LogitsToShapeOptions } from '../../core/segment/mask-geometry.ts'
import { combineSegmentations, outlineOf, segmentationToLowResLogits } from '../../core/segment/mask-ops.ts'
import { regionShapeGeometry, type Region } from '../../core/segment/region.ts'
import {
  polygonGeometry,
  toCocoSegmentation,
  type CocoSegmentation,
  type ShapeGeometry,
} from '../../core/segment/segmentation.ts'
import type { OutlinePart, Segmentation } from '../../../src-preload/contract/schemas.ts'

export const geometryTasks = {
  /**
   * One candidate's low-resolution logits → its outline and COCO geometry (Engine.shapeOf);
   * with `region`, logits of a region's embedding, the geometry in full-image pixels.
   */
  shapeOf(
    logits: Float32Array,
    gridW: number,
    gridH: number,
    width: number,
    height: number,
    options: LogitsToShapeOptions,
    region: Region | null = null,
  ): ShapeGeometry {
    if (region !== null) return regionShapeGeometry(logits, region, width, height, options)
    const shape = logitsToShape(logits, gridW, gridH, width, height, options)
    return { shape, ...toCocoSegmentation(shape, width, height) }
  },
  polygonGeometry(rings: number[][], width: number, height: number): CocoSegmentation {
    return polygonGeometry(rings, width, height)
  },
  combine(
    base: Segmentation,
    other: Segmentation,
    op: 'add' | 'subtract',
    width: number,
    height: number,
  ): CocoSegmentation {
    return combineSegmentations(base, other, op, width, height)
  },
  /** Outlines of many saved masks at once (an image's list): one message instead of one per mask. */
  outlines(segmentations: Segmentation[]): (OutlinePart[] | { invalid: string })[] {
    return segmentations.map((seg) => {
      try {
        return outlineOf(seg)
      } catch (err) {
        // One invalid stored mask must not cost its neighbours their outlines.
        if (err instanceof RangeError) return { invalid: err.message }
        throw err
      }
    })
  },
  lowResLogits(seg: Segmentation, width: number, height: number): Float32Array {
    return segmentationToLowResLogits(seg, width, height)
  },
}

export type GeometryTasks = typeof geometryTasks
export type GeometryTaskName = keyof GeometryTasks
