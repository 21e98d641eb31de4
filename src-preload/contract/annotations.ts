// The `annotations` domain: the saved objects of an image. A save has committed to disk when
// its promise resolves, so the renderer shows an annotation as saved only then.
import { z } from 'zod'
import { method, result } from './define.ts'
import { area, bbox, id, promptRecord, score, segmentation } from './schemas.ts'
import type { Bbox, OutlinePart, PromptRecord, Segmentation } from './schemas.ts'

/** An annotation as the project store holds it. */
export interface StoredAnnotation {
  id: number
  imageId: number
  categoryId: number
  segmentation: Segmentation
  /** COCO [x, y, width, height] in image pixels. */
  bbox: Bbox
  area: number
  score: number | null
  /** The prompt that produced it, so it can be re-prompted later. */
  prompt: PromptRecord | null
  /** The model that segmented it (set by main from the active model), null when drawn by hand. */
  modelId: string | null
  /** ISO 8601, UTC. */
  createdAt: string
  updatedAt: string
}

/** An annotation as it crosses IPC. */
export interface Annotation extends StoredAnnotation {
  /**
   * For RLE segmentations (shapes with holes): the outline to draw and edit, parts with their
   * holes as flat [x0, y0, ...] rings in image pixels. Absent for polygon segmentations, which
   * are their own outline.
   */
  outline?: OutlinePart[]
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
