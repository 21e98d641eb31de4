// One object being prompted on one image: turns points (and an optional box) in original image
// pixels into decoder runs, with SAM's iterative refinement.
//
// Refinement follows the model interface: the first decode of an object sends zeros and
// has_mask_input = 0; each later decode whose point list extends the previous one sends the
// previous chosen candidate's 256x256 logits (clamped to ±32) with has_mask_input = 1, and all
// points again. Every decoded state is kept, so removing the last point restores the previous
// state exactly (same logits, same scores, same chosen candidate) without running the decoder.

import * as ort from 'onnxruntime-node'
import { UserError } from '../errors.ts'
import { LOW_RES_SIZE, MASK_LOGIT_CLAMP, MODEL_SIZE, POINT_LABEL } from './model-interface.ts'
import type { DecoderVariant, ModelRunner } from './model.ts'
import { MAX_PROMPT_POINTS } from '../../../src-preload/contract/limits.ts'
import type { PromptBox, PromptPoint, PromptRecord } from '../../../src-preload/contract/schemas.ts'
import { frameOf, regionKey, type Region } from './region.ts'

/** Encoder outputs for one image (or one region of it), plus the image's size. */
export interface Embedding {
  modelId: string
  /** The whole image's size after EXIF orientation, also for a region's embedding. */
  width: number
  height: number
  /** The region the encoder saw (region.ts); absent: the whole image. */
  region?: Region | null
  imageEmbed: Float32Array // [1,256,64,64]
  highResFeats0: Float32Array // [1,32,256,256]
  highResFeats1: Float32Array // [1,64,128,128]
}

export interface DecodedState {
  prompt: PromptRecord
  /** Per candidate, the 256x256 low-resolution logits (unclamped). */
  logits: Float32Array[]
  /** Per candidate, the decoder's predicted IoU (0..1). */
  scores: number[]
  /** The candidate the user sees; by default the highest score. Its logits feed back. */
  chosen: number
  /** Milliseconds inside session.run, and around it (tensors in, logits out). */
  timings: { run: number; overhead: number }
  /** True when this state was restored from history rather than decoded. */
  restored: boolean
}

const LOW_RES_AREA = LOW_RES_SIZE * LOW_RES_SIZE

function samePoint(a: PromptPoint, b: PromptPoint): boolean {
  return a.x === b.x && a.y === b.y && a.label === b.label
}

function sameBox(a: PromptBox | null | undefined, b: PromptBox | null | undefined): boolean {
  if (!a || !b) return !a && !b
  return a.x0 === b.x0 && a.y0 === b.y0 && a.x1 === b.x1 && a.y1 === b.y1
}

/** `prefix` is `full` with zero or more points appended (same box). */
function isPrefix(prefix: PromptRecord, full: PromptRecord): boolean {
  if (!sameBox(prefix.box, full.box) || prefix.points.length > full.points.length) return false
  return prefix.points.every((p, i) => samePoint(p, full.points[i]))
}

/** Refuses prompts that cannot be decoded, naming the point or box at fault. */
export function checkPrompt(prompt: PromptRecord, width: number, height: number): void {
  const bad = (v: number) => !Number.isFinite(v)
  if (prompt.points.length > MAX_PROMPT_POINTS) {
    throw new UserError('bad-point', `${prompt.points.length} points: a prompt takes at most ${MAX_PROMPT_POINTS}`)
  }
  prompt.points.forEach((p, i) => {
    if (bad(p.x) || bad(p.y))
      throw new UserError('bad-point', `point ${i + 1}: coordinates must be finite numbers, got ${p.x},${p.y}`)
    if (p.label !== 0 && p.label !== 1)
      throw new UserError('bad-point', `point ${i + 1}: label must be 0 or 1, got ${String(p.label)}`)
    if (p.x < 0 || p.y < 0 || p.x > width || p.y > height) {
      throw new UserError('bad-point', `point ${i + 1}: ${p.x},${p.y} is outside the ${width}x${height} image`)
    }
  })
  const b = prompt.box
  if (b) {
    if ([b.x0, b.y0, b.x1, b.y1].some(bad)) throw new UserError('bad-box', `box: coordinates must be finite numbers`)
    if (b.x0 === b.x1 || b.y0 === b.y1)
      throw new UserError('bad-box', `box ${b.x0},${b.y0},${b.x1},${b.y1}: has no area`)
  }
  if (prompt.points.length === 0 && !b)
    throw new UserError('empty-prompt', 'a prompt needs at least one point or a box')
}

/**
 * Refuses a prompt reaching outside the region an embedding was computed on: the model has
 * seen nothing there (a point or box corner on the region's edge is inside).
 */
export function checkPromptInRegion(prompt: PromptRecord, region: Region): void {
  const inside = (x: number, y: number) => x >= region.x0 && x <= region.x1 && y >= region.y0 && y <= region.y1
  prompt.points.forEach((p, i) => {
    if (!inside(p.x, p.y))
      throw new UserError('bad-point', `point ${i + 1}: ${p.x},${p.y} is outside the region ${regionKey(region)}`)
  })
  const b = prompt.box
  if (b && !(inside(b.x0, b.y0) && inside(b.x1, b.y1)))
    throw new UserError(
      'bad-box',
      `box ${b.x0},${b.y0},${b.x1},${b.y1}: reaches outside the region ${regionKey(region)}`,
    )
}

/** Index of the highest score (first on ties). */
export function bestCandidate(scores: readonly number[]): number {
  let best = 0
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i
  return best
}

/**
 * Wraps the decoder session for one embedding. Tensors over the embedding are made once; each
 * run only builds the small point tensors.
 */
export class Decoder {
  private readonly features: Record<string, ort.Tensor>
  private readonly noMask = new ort.Tensor('float32', new Float32Array(LOW_RES_AREA), [
    1,
    1,
    LOW_RES_SIZE,
    LOW_RES_SIZE,
  ])
  private readonly outputNames: string[]

  constructor(
    private readonly session: ModelRunner,
    private readonly variant: DecoderVariant,
    readonly embedding: Embedding,
  ) {
    this.features = {
      image_embed: new ort.Tensor('float32', embedding.imageEmbed, [1, 256, 64, 64]),
      high_res_feats_0: new ort.Tensor('float32', embedding.highResFeats0, [1, 32, 256, 256]),
      high_res_feats_1: new ort.Tensor('float32', embedding.highResFeats1, [1, 64, 128, 128]),
    }
    // Variant A also returns 1024x1024 masks; asking only for what we use spares copying 12 MB.
    this.outputNames = variant === 'A' ? ['iou_predictions', 'low_res_masks'] : ['iou_predictions', 'masks']
  }

  /**
   * Maps the prompt to model space and runs the decoder. Points arrive in the COCO frame
   * (pixel centres at i + 0.5); upstream expects pixel indices (centres at i) and the graph adds
   * the half pixel itself, hence the − 0.5 before scaling.
   */
  async run(
    prompt: PromptRecord,
    maskInput: Float32Array | null,
  ): Promise<Omit<DecodedState, 'prompt' | 'chosen' | 'restored'>> {
    const t0 = performance.now()
    // A region's embedding sees only the region, stretched to the model's square.
    const frame = frameOf(this.embedding)
    const sx = MODEL_SIZE / (frame.x1 - frame.x0)
    const sy = MODEL_SIZE / (frame.y1 - frame.y0)
    const n = prompt.points.length + (prompt.box ? 2 : 0)
    const coords = new Float32Array(n * 2)
    const labels = new Float32Array(n)
    let k = 0
    if (prompt.box) {
      const b = prompt.box
      const corners: [number, number, number][] = [
        [Math.min(b.x0, b.x1), Math.min(b.y0, b.y1), POINT_LABEL.boxTopLeft],
        [Math.max(b.x0, b.x1), Math.max(b.y0, b.y1), POINT_LABEL.boxBottomRight],
      ]
      for (const [x, y, label] of corners) {
        coords[2 * k] = (x - frame.x0 - 0.5) * sx
        coords[2 * k + 1] = (y - frame.y0 - 0.5) * sy
        labels[k++] = label
      }
    }
    for (const p of prompt.points) {
      coords[2 * k] = (p.x - frame.x0 - 0.5) * sx
      coords[2 * k + 1] = (p.y - frame.y0 - 0.5) * sy
      labels[k++] = p.label === 1 ? POINT_LABEL.positive : POINT_LABEL.negative
    }
    let mask = this.noMask
    if (maskInput) {
      const clamped = new Float32Array(LOW_RES_AREA)
      for (let i = 0; i < LOW_RES_AREA; i++) {
        const v = maskInput[i]
        clamped[i] = v > MASK_LOGIT_CLAMP ? MASK_LOGIT_CLAMP : v < -MASK_LOGIT_CLAMP ? -MASK_LOGIT_CLAMP : v
      }
      mask = new ort.Tensor('float32', clamped, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE])
    }
    const feeds = {
      ...this.features,
      point_coords: new ort.Tensor('float32', coords, [1, n, 2]),
      point_labels: new ort.Tensor('float32', labels, [1, n]),
      mask_input: mask,
      has_mask_input: new ort.Tensor('float32', new Float32Array([maskInput ? 1 : 0]), [1]),
    }
    const t1 = performance.now()
    const out = await this.session.run(feeds, this.outputNames)
    const t2 = performance.now()
    const scores = Array.from(out.iou_predictions.data as Float32Array)
    const lowRes = (this.variant === 'A' ? out.low_res_masks : out.masks).data as Float32Array
    const logits = scores.map((_, c) => lowRes.slice(c * LOW_RES_AREA, (c + 1) * LOW_RES_AREA))
    for (const t of Object.values(out)) t.dispose?.()
    const t3 = performance.now()
    return { logits, scores, timings: { run: t2 - t1, overhead: t1 - t0 + (t3 - t2) } }
  }
}

/**
 * The click-by-click state of one object. `decode` is the only entry point: give it the whole
 * current prompt each time and it decides between refining, restoring and starting over.
 */
export class PromptHistory {
  private history: DecodedState[] = []

  constructor(private readonly decoder: Decoder) {}

  get current(): DecodedState | null {
    return this.history.at(-1) ?? null
  }

  /** Forget everything: the next decode starts a new object. */
  reset(): void {
    this.history = []
  }

  /**
   * Starts the object from a mask it already has (a saved annotation's, as 256x256 logits): the
   * first decode refines from it, as if it were the previous click's result. No tool we know
   * of lets a saved annotation be re-prompted like this.
   */
  startFrom(logits: Float32Array): void {
    if (logits.length !== LOW_RES_AREA)
      throw new RangeError(`the logits a re-prompt starts from must be ${LOW_RES_SIZE}x${LOW_RES_SIZE}`)
    this.history = [
      {
        prompt: { points: [], box: null },
        logits: [logits, logits, logits],
        scores: [1, 1, 1],
        chosen: 0,
        timings: { run: 0, overhead: 0 },
        restored: false,
      },
    ]
  }

  async decode(prompt: PromptRecord, candidate?: number): Promise<DecodedState> {
    const { width, height, region } = this.decoder.embedding
    checkPrompt(prompt, width, height)
    if (region) checkPromptInRegion(prompt, region)
    const snapshot: PromptRecord = {
      points: prompt.points.map((p) => ({ ...p })),
      box: prompt.box ? { ...prompt.box } : null,
    }

    // Deepest saved state whose prompt is a prefix of the new one.
    let base = -1
    for (let i = this.history.length - 1; i >= 0; i--) {
      if (isPrefix(this.history[i].prompt, snapshot)) {
        base = i
        break
      }
    }
    if (base >= 0 && this.history[base].prompt.points.length === snapshot.points.length) {
      // Same prompt as a saved state (e.g. the last point was removed): restore it exactly.
      this.history.length = base + 1
      const state = this.history[base]
      if (candidate !== undefined) this.choose(candidate)
      return { ...state, restored: true }
    }
    this.history.length = base + 1
    const previous = this.history.at(-1)
    const run = await this.decoder.run(snapshot, previous ? previous.logits[previous.chosen] : null)
    const chosen = candidate ?? bestCandidate(run.scores)
    if (!(chosen >= 0 && chosen < run.scores.length && Number.isInteger(chosen))) {
      throw new UserError('bad-candidate', `candidate ${candidate}: must be 0..${run.scores.length - 1}`)
    }
    const state: DecodedState = { prompt: snapshot, ...run, chosen, restored: false }
    this.history.push(state)
    return state
  }

  /** Pick another candidate for the current state; its logits feed the next refinement. */
  choose(candidate: number): DecodedState {
    const state = this.current
    if (!state) throw new UserError('no-prompt', 'no decoded prompt to choose a candidate from')
    if (!(Number.isInteger(candidate) && candidate >= 0 && candidate < state.scores.length)) {
      throw new UserError('bad-candidate', `candidate ${candidate}: must be 0..${state.scores.length - 1}`)
    }
    state.chosen = candidate
    return state
  }
}
