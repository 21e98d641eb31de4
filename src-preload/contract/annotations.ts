// The `annotations` domain: the saved objects of an image. A save has committed to disk when
// its promise resolves, so the renderer shows an annotation as saved only then.
import { z } from 'zod'
import { method, result } from './define.ts'
import { area, bbox, id, promptRecord, score, segmentation } from './schemas.ts'

export interface PromptPoint {
  x: number
  y: number
  label: 0 | 1
}

export interface PromptBox {
  x0: number
  y0: number
  x1: number
  y1: number
}

export interface CompressedRle {
  /** [height, width] */
  size: [number, number]
  counts: string
}

/** COCO polygons (flat [x0, y0, x1, y1, ...] rings) or compressed RLE. */
export type Segmentation = number[][] | CompressedRle

export interface Annotation {
  id: number
  imageId: number
  categoryId: number
  segmentation: Segmentation
  /** COCO [x, y, width, height] in image pixels. */
  bbox: [number, number, number, number]
  area: number
  score: number | null
  /** The prompt that produced it, so it can be refined later. */
  prompt: { points: PromptPoint[]; box?: PromptBox | null } | null
  /** The model that segmented it (set by main from the active model), null when drawn by hand. */
  modelId: string | null
  createdAt: string
  updatedAt: string
  /**
   * For RLE segmentations (shapes with holes): the outline to draw and edit, parts with their
   * holes as flat [x0, y0, ...] rings in image pixels. Absent for polygon segmentations, which
   * are their own outline.
   */
  outline?: { outer: number[]; holes: number[][] }[]
}

const fields = {
  categoryId: id,
  segmentation,
  bbox,
  area,
  score: score.nullable().optional(),
  prompt: promptRecord.nullable().optional(),
}

export const annotations = {
  list: method(z.strictObject({ imageId: id }), result<Annotation[]>()),
  save: method(z.strictObject({ imageId: id, ...fields }), result<Annotation>()),
  update: method(
    z.strictObject({ annotationId: id, patch: z.strictObject(fields).partial() }),
    result<Annotation>(),
  ),
  delete: method(z.strictObject({ annotationId: id }), result<null>()),
  /**
   * Adds a mask to the annotation (a missed part) or cuts it away (an overlap), e.g. the mask
   * being prompted; main recomputes the outline, bbox and area.
   */
  combine: method(
    z.strictObject({ annotationId: id, segmentation, op: z.enum(['add', 'subtract']) }),
    result<Annotation>(),
  ),
}
