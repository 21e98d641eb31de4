// The `annotations` domain: the saved objects of an image. A save has committed to disk when
// its promise resolves, so the renderer shows an annotation as saved only then.
//
// Geometry is decided in main: the renderer sends rings (a hand-drawn polygon, vertex edits) or
// names the mask being prompted (main takes it from its prompt history, exactly as the last
// decode showed it), never a segmentation, bbox or area. Main stores and returns every
// annotation with its outline. Undo and redo restore an earlier state by its `revision`.
import { z } from 'zod'
import { method, result } from './define.ts'
import { id, rings } from './schemas.ts'
import type { Bbox, OutlinePart, PromptRecord, Segmentation } from './schemas.ts'

/** An annotation as the project store holds it. */
export interface StoredAnnotation {
  id: number
  imageId: number
  categoryId: number
  segmentation: Segmentation
  /** COCO [x, y, width, height] in image pixels: the bounding box of the rasterised mask. */
  bbox: Bbox
  /** Pixels of the rasterised mask (pixel centres inside), for polygons and RLE alike. */
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
   * What the renderer draws and hit-tests: separate parts, each an outer ring with its holes,
   * flat [x0, y0, ...] in image pixels; computed by main for polygons and RLE alike.
   */
  outline: OutlinePart[]
  /**
   * Names this state of the annotation (geometry, score, prompt, model) in main for as long as
   * the project stays open: `save` and `update` take it back to restore the state (undoing a
   * delete or an edit) without the renderer sending geometry.
   */
  revision: string
}

/** A revision token as main hands it out. */
const revision = z.string().min(1).max(100)

export const annotations = {
  list: method(z.strictObject({ imageId: id }), result<Annotation[]>()),
  /**
   * A new annotation on `imageId`, from exactly one of: `rings` (a hand-drawn polygon),
   * `prompted: true` (the mask being prompted on that image, with its score and prompt; the
   * prompt history is then done), or `revision` (an earlier state, e.g. undoing a delete).
   */
  save: method(
    z.union([
      z.strictObject({ imageId: id, categoryId: id, rings }),
      z.strictObject({ imageId: id, categoryId: id, prompted: z.literal(true) }),
      z.strictObject({ imageId: id, categoryId: id, revision }),
    ]),
    result<Annotation>(),
  ),
  /**
   * Changes a saved annotation: its category, and at most one geometry source: `rings` (vertex
   * edits), `prompted: true` (accepting a re-prompt of this annotation) or `revision` (back to
   * an earlier state of it).
   */
  update: method(
    z
      .strictObject({
        annotationId: id,
        categoryId: id.optional(),
        rings: rings.optional(),
        prompted: z.literal(true).optional(),
        revision: revision.optional(),
      })
      .refine(
        (u) => [u.rings, u.prompted, u.revision].filter((v) => v !== undefined).length <= 1,
        'give at most one of rings, prompted and revision',
      )
      .refine(
        (u) =>
          u.categoryId !== undefined || u.rings !== undefined || u.prompted !== undefined || u.revision !== undefined,
        'nothing to change',
      ),
    result<Annotation>(),
  ),
  delete: method(z.strictObject({ annotationId: id }), result<null>()),
  /**
   * Adds the mask being prompted (on the annotation's image) to the annotation, a missed part,
   * or cuts it away, an overlap; main computes the new geometry.
   */
  combine: method(z.strictObject({ annotationId: id, op: z.enum(['add', 'subtract']) }), result<Annotation>()),
}
