// The `segment` domain: clicks in, polygons out. Main keeps the prompt history of the object
// being prompted (iterative refinement feeds the chosen candidate's logits back), so each
// decode sends the whole current prompt and main decides between refining, restoring an
// earlier state (a point removed) and starting a new object.
import { z } from 'zod'
import { method, NO_ARGUMENT, result } from './define.ts'
import { box, id, MAX_PROMPT_POINTS, point } from './schemas.ts'
import type { Bbox, OutlinePart, Segmentation } from './schemas.ts'

/**
 * Where an image's embedding stands: 'none' when nothing was asked for it yet; the others are
 * the embedding scheduler's job states.
 */
export type EmbeddingState =
  'none' | 'queued' | 'reading' | 'preprocessing' | 'encoding' | 'ready' | 'failed' | 'cancelled'

/** Where an embedding came from: memory, the disk cache or a fresh encoder run. */
export type EmbeddingSource = 'memory' | 'disk' | 'encoder'

export interface EmbeddingStatus {
  imageId: number
  state: EmbeddingState
}

export interface DecodeResult {
  imageId: number
  /** Oriented image size the geometry refers to. */
  width: number
  height: number
  /** The candidate shown (and fed back on the next click). */
  candidate: number
  score: number
  /** Predicted IoU of every candidate, to offer the others. */
  scores: number[]
  /** Outline for drawing: separate parts, each with its holes. */
  parts: OutlinePart[]
  /** What a save stores: polygons, or compressed RLE when the shape has holes. */
  segmentation: Segmentation
  bbox: Bbox
  area: number
  hasHoles: boolean
  /** True when this prompt was seen before (a point removed): no decoder run. */
  restored: boolean
  /** Where the embedding came from: memory, disk cache or a fresh encoder run. */
  embedding: EmbeddingSource
  timings: { embedding: number; decode: number; postprocess: number }
}

export const segment = {
  /** The image the user is on (null: none): encodes it first and prefetches its neighbours. */
  setCurrent: method(z.strictObject({ imageId: id.nullable() }), result<EmbeddingStatus | null>()),
  embeddingStatus: method(z.strictObject({ imageId: id }), result<EmbeddingStatus>()),
  decode: method(
    z
      .strictObject({
        imageId: id,
        points: z.array(point).max(MAX_PROMPT_POINTS),
        box: box.nullable().optional(),
        /** Show this candidate instead of the best-scored one. */
        candidate: z.int().min(0).max(15).optional(),
        /**
         * Re-prompt a saved annotation of this image: the object starts from its mask (as the
         * first mask_input), so the clicks refine what was saved.
         */
        reprompt: id.optional(),
      })
      .refine((p) => p.points.length > 0 || (p.box !== undefined && p.box !== null), 'a prompt needs a point or a box'),
    result<DecodeResult>(),
  ),
  /** Forgets the object being prompted: the next decode starts a new one. */
  reset: method(NO_ARGUMENT, result<null>()),
}
