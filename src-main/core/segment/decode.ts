// Decode → result, once for every caller: the app's segment service and the CLI's `segment` and
// `annotate` turn a prompt on an embedding into the same fields of the contract's DecodeResult
// through this function (the app adds the image id and where the embedding came from).

import type { DecodeResult } from '../../../src-preload/contract/segment.ts'
import type { PromptRecord } from '../../../src-preload/contract/schemas.ts'
import type { Engine, PolygonOptions } from './engine.ts'
import type { Embedding, PromptHistory } from './prompt.ts'
import type { ShapeGeometry } from './segmentation.ts'
import { touchesRegionBorder, type Region } from './region.ts'

/** A DecodeResult less what only the caller knows: the image id and where the embedding came from. */
export type PromptDecode = Omit<DecodeResult, 'imageId' | 'embedding' | 'timings'> & {
  /** The decoded state's prompt, as the history keeps it (what an accepted mask records). */
  prompt: PromptRecord
  timings: { decode: number; postprocess: number }
  /**
   * The mask reaches a side of the embedding's region that lies inside the image: the object
   * may continue outside the view. Always false for a whole-image embedding.
   */
  touchesRegionBorder: boolean
}

/**
 * Polygons and COCO geometry of one candidate's low-resolution logits. The CLI computes them in
 * line (Engine.shapeOf); the app hands them to a worker thread, so this may return a promise.
 * With `region` (a region's embedding) the logits cover that part of the width x height image
 * and the geometry must come back in full-image pixels (region.ts: regionShapeGeometry).
 */
export type Postprocess = (
  logits: Float32Array,
  width: number,
  height: number,
  options: PolygonOptions,
  region?: Region | null,
) => ShapeGeometry | Promise<ShapeGeometry>

/**
 * Runs `prompt` through the object's prompt history (refine, restore or start) and returns the
 * chosen candidate's geometry: outline parts, the COCO segmentation (RLE when it has holes), and
 * bbox and area by the one definition (segmentation.ts).
 */
export async function decodePrompt(
  engine: Engine,
  history: PromptHistory,
  embedding: Embedding,
  prompt: PromptRecord,
  options: PolygonOptions & { candidate?: number; postprocess?: Postprocess } = {},
): Promise<PromptDecode> {
  const t0 = performance.now()
  const state = await history.decode(prompt, options.candidate)
  const t1 = performance.now()
  const { candidate: _candidate, postprocess, ...polygon } = options
  const logits = state.logits[state.chosen]
  const region = embedding.region ?? null
  const geometry = postprocess
    ? await postprocess(logits, embedding.width, embedding.height, polygon, region)
    : engine.shapeOf(state, embedding.width, embedding.height, polygon, region)
  const t2 = performance.now()
  return {
    width: embedding.width,
    height: embedding.height,
    candidate: state.chosen,
    score: state.scores[state.chosen],
    scores: state.scores,
    parts: geometry.shape.parts,
    segmentation: geometry.segmentation,
    bbox: geometry.bbox,
    area: geometry.area,
    hasHoles: geometry.hasHoles,
    restored: state.restored,
    prompt: state.prompt,
    timings: { decode: t1 - t0, postprocess: t2 - t1 },
    touchesRegionBorder: touchesRegionBorder(logits, region, embedding.width, embedding.height),
  }
}
