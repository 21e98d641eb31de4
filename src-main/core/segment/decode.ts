// Decode → result, once for every caller: the app's segment service and the CLI's `segment` and
// `annotate` turn a prompt on an embedding into the same fields of the contract's DecodeResult
// through this function (the app adds the image id and where the embedding came from).

import type { DecodeResult } from '../../../src-preload/contract/segment.ts'
import type { PromptRecord } from '../../../src-preload/contract/schemas.ts'
import type { Engine, PolygonOptions } from './engine.ts'
import type { Embedding, PromptHistory } from './prompt.ts'
import { toCocoSegmentation, type ShapeGeometry } from './segmentation.ts'
import type { Shape } from './mask-geometry.ts'

/** A DecodeResult less what only the caller knows: the image id and where the embedding came from. */
export type PromptDecode = Omit<DecodeResult, 'imageId' | 'embedding' | 'timings'> & {
  /** The decoded state's prompt, as the history keeps it (what an accepted mask records). */
  prompt: PromptRecord
  timings: { decode: number; postprocess: number }
}

/**
 * Polygons and COCO geometry of one candidate's low-resolution logits. The CLI computes them in
 * line (Engine.shapeOf); the app hands them to a worker thread, so this may return a promise.
 */
export type Postprocess = (
  logits: Float32Array,
  width: number,
  height: number,
  options: PolygonOptions,
) => ShapeGeometry | Promise<ShapeGeometry>

type EncodedRegion = NonNullable<Embedding['region']>

/** The prompt moved by (dx, dy): into a region's frame (negative) or back out of it. */
function movePrompt(prompt: PromptRecord, dx: number, dy: number): PromptRecord {
  const box = prompt.box ?? null
  return {
    points: prompt.points.map((p) => ({ ...p, x: p.x + dx, y: p.y + dy })),
    box: box === null ? null : { x0: box.x0 + dx, y0: box.y0 + dy, x1: box.x1 + dx, y1: box.y1 + dy },
  }
}

/**
 * A region's geometry in the whole image's pixels, and whether the mask reaches the region's
 * edge where that edge is inside the image (within half a pixel).
 */
function fromRegion(geometry: ShapeGeometry, region: EncodedRegion): ShapeGeometry & { touchesRegionBorder: boolean } {
  const w = region.x1 - region.x0,
    h = region.y1 - region.y0
  let touches = false
  const move = (ring: number[]): number[] =>
    ring.map((v, i) => {
      if (i % 2 === 0) {
        if ((v <= 0.5 && region.x0 > 0) || (v >= w - 0.5 && region.x1 < region.imageWidth)) touches = true
        return v + region.x0
      }
      if ((v <= 0.5 && region.y0 > 0) || (v >= h - 0.5 && region.y1 < region.imageHeight)) touches = true
      return v + region.y0
    })
  const shape: Shape = { parts: geometry.shape.parts.map((p) => ({ outer: move(p.outer), holes: p.holes.map(move) })) }
  return { shape, ...toCocoSegmentation(shape, region.imageWidth, region.imageHeight), touchesRegionBorder: touches }
}

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
  // Prompts and results are in the whole image's pixels; an encoded region has its own frame.
  const region = embedding.region
  const framed = region === undefined ? prompt : movePrompt(prompt, -region.x0, -region.y0)
  const state = await history.decode(framed, options.candidate)
  const t1 = performance.now()
  const { candidate: _candidate, postprocess, ...polygon } = options
  const logits = state.logits[state.chosen]
  const inFrame = postprocess
    ? await postprocess(logits, embedding.width, embedding.height, polygon)
    : engine.shapeOf(state, embedding.width, embedding.height, polygon)
  const geometry = region === undefined ? { ...inFrame, touchesRegionBorder: false } : fromRegion(inFrame, region)
  const t2 = performance.now()
  return {
    width: region?.imageWidth ?? embedding.width,
    height: region?.imageHeight ?? embedding.height,
    candidate: state.chosen,
    score: state.scores[state.chosen],
    scores: state.scores,
    parts: geometry.shape.parts,
    segmentation: geometry.segmentation,
    bbox: geometry.bbox,
    area: geometry.area,
    hasHoles: geometry.hasHoles,
    touchesRegionBorder: geometry.touchesRegionBorder,
    restored: state.restored,
    prompt: region === undefined ? state.prompt : movePrompt(state.prompt, region.x0, region.y0),
    timings: { decode: t1 - t0, postprocess: t2 - t1 },
  }
}
