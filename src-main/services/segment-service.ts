// Segmenting on the open project: the image the user is on (encoded first, neighbours
// prefetched), its embedding status, and the one prompt history of the object being prompted,
// which every decode refines, restores or starts afresh. Decodes run one at a time, in order.
import { CancelledError, UserError } from '../core/errors.ts'
import { decodePrompt, type Postprocess } from '../core/segment/decode.ts'
import { LOW_RES_SIZE } from '../core/segment/model-interface.ts'
import type { PromptHistory } from '../core/segment/prompt.ts'
import type { Bbox, PromptRecord, Segmentation } from '../../src-preload/contract/schemas.ts'
import type { ParsedOf } from '../../src-preload/contract/define.ts'
import type { DecodeResult, EmbeddingStatus } from '../../src-preload/contract/segment.ts'
import type { segment } from '../../src-preload/contract/segment.ts'
import type { ModelService } from './model-service.ts'
import type { OpenProject, ProjectService } from './project-service.ts'
import type { GeometryPool } from './geometry/geometry-pool.ts'

export type DecodeInput = ParsedOf<(typeof segment)['decode']>

/** The mask being prompted, as an accept stores it. */
export interface PromptedMask {
  segmentation: Segmentation
  bbox: Bbox
  area: number
  score: number
  /** The clicks and box of the decoded state (since the saved mask, for a re-prompt). */
  prompt: PromptRecord
  /** The saved annotation this prompt re-prompts; null for a new object. */
  reprompt: number | null
}

export class SegmentService {
  private prompt: {
    imageId: number
    history: PromptHistory
    reprompt: number | null
    /** The geometry of the last decode's answer; null before the first. */
    shown: Omit<PromptedMask, 'reprompt'> | null
  } | null = null
  /** Serialises decodes: a prompt history must see clicks in order. */
  private decoding: Promise<unknown> = Promise.resolve()

  /** A click's polygons are traced on a worker thread: a fragmented mask takes seconds. */
  private readonly postprocess: Postprocess

  constructor(
    private readonly projects: ProjectService,
    private readonly model: ModelService,
    private readonly geometry: GeometryPool,
  ) {
    // The prompt history keeps the logits (they feed the next click), so the worker gets a copy.
    this.postprocess = (logits, width, height, options, region) =>
      geometry.run('shapeOf', [logits.slice(), LOW_RES_SIZE, LOW_RES_SIZE, width, height, options, region ?? null])
    projects.onClosing(async () => {
      this.prompt = null
      await this.decoding.catch(() => {})
    })
  }

  /** The image file to segment, refusing images that are gone or unreadable. */
  private segmentableImage(imageId: number): { file: string; opened: OpenProject } {
    const opened = this.projects.require()
    const row = opened.project.getImage(imageId)
    if (row.missing) throw new UserError('image-missing', `${row.path}: the image file was not found by the last scan`)
    if (row.error !== null) throw new UserError('image-unreadable', `${row.path}: ${row.error}`)
    return { file: opened.project.absolutePath(row), opened }
  }

  async setCurrent(imageId: number | null): Promise<EmbeddingStatus | null> {
    const opened = this.projects.require()
    // Clicks on this image come next: their polygons are traced on the pool's workers.
    this.geometry.warm()
    if (this.prompt !== null && this.prompt.imageId !== imageId) this.prompt = null
    const scheduler = await opened.embeddings
    if (imageId === null) {
      scheduler.setCurrent(null)
      return null
    }
    const { file } = this.segmentableImage(imageId)
    scheduler.setCurrent({ file, id: imageId })
    return { imageId, state: scheduler.stateOf(file) }
  }

  async embeddingStatus(imageId: number): Promise<EmbeddingStatus> {
    const { file, opened } = this.segmentableImage(imageId)
    const scheduler = await opened.embeddings
    return { imageId, state: scheduler.stateOf(file) }
  }

  decode(input: DecodeInput): Promise<DecodeResult> {
    const next = this.decoding.then(() => this.doDecode(input))
    this.decoding = next.catch(() => {})
    return next
  }

  private async doDecode(input: DecodeInput): Promise<DecodeResult> {
    const { file, opened } = this.segmentableImage(input.imageId)
    const [engine, scheduler] = await Promise.all([this.model.engine, opened.embeddings])
    const t0 = performance.now()
    const { embedding, source } = await scheduler.get({ file, id: input.imageId })
    const t1 = performance.now()
    if (this.projects.opened !== opened) throw new CancelledError('the project was closed during the decode')
    const from = input.reprompt ?? null
    if (
      this.prompt === null ||
      this.prompt.imageId !== input.imageId ||
      (from !== null && this.prompt.reprompt !== from)
    ) {
      let saved
      if (from !== null) {
        const annotation = opened.project.getAnnotation(from)
        if (annotation.imageId !== input.imageId) {
          throw new UserError(
            'bad-argument',
            `annotation ${from} belongs to image ${annotation.imageId}, not ${input.imageId}`,
          )
        }
        saved = await this.geometry.run('lowResLogits', [annotation.segmentation, embedding.width, embedding.height])
        if (this.projects.opened !== opened) throw new CancelledError('the project was closed during the decode')
      }
      this.prompt = { imageId: input.imageId, history: engine.prompt(embedding, saved), reprompt: from, shown: null }
    }
    const current = this.prompt
    const {
      prompt: decodedPrompt,
      timings,
      ...decoded
    } = await decodePrompt(
      engine,
      current.history,
      embedding,
      { points: input.points, box: input.box ?? null },
      { candidate: input.candidate, postprocess: this.postprocess },
    )
    // What an accept stores: exactly the geometry this answer shows.
    current.shown = {
      segmentation: decoded.segmentation,
      bbox: decoded.bbox,
      area: decoded.area,
      score: decoded.score,
      prompt: decodedPrompt,
    }
    return { imageId: input.imageId, ...decoded, embedding: source, timings: { embedding: t1 - t0, ...timings } }
  }

  /**
   * The mask being prompted on `imageId`, as the last decode showed it, for an annotation to
   * store; the prompt history is then forgotten (the object is accepted). Waits for decodes
   * already asked for, so it takes the answer to the latest prompt.
   */
  async takePromptedMask(imageId: number): Promise<PromptedMask> {
    await this.decoding.catch(() => {})
    const prompt = this.prompt
    if (prompt === null || prompt.imageId !== imageId || prompt.shown === null) {
      throw new UserError(
        'no-prompted-mask',
        `no mask is being prompted on image ${imageId}: decode a prompt on it first`,
      )
    }
    this.prompt = null
    return { ...prompt.shown, reprompt: prompt.reprompt }
  }

  /** Forgets the object being prompted: the next decode starts a new one. */
  reset(): null {
    this.prompt?.history.reset()
    this.prompt = null
    return null
  }
}
