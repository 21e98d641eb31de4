// The open project's annotations: list, save, update, delete, combine. Main decides every
// geometry it stores (core/segment/segmentation.ts): rings are checked and measured, a prompted
// mask is taken from the segment service's prompt history exactly as decoded, a combined mask is
// computed from the two masks. Every annotation that leaves main carries its outline and a
// revision that restores that state later (undo, redo). Measuring, combining and tracing run on
// the geometry pool's worker threads: on a large fragmented mask each takes seconds.
import { CancelledError, UserError } from '../core/errors.ts'
import type { AnnotationPatch, ProjectImage, StoredAnnotation } from '../core/project/index.ts'
import type { CompressedRle, OutlinePart, Segmentation } from '../../src-preload/contract/schemas.ts'
import type { Annotation } from '../../src-preload/contract/annotations.ts'
import type { annotations } from '../../src-preload/contract/annotations.ts'
import type { ParsedOf } from '../../src-preload/contract/define.ts'
import type { ModelService } from './model-service.ts'
import type { ProjectService } from './project-service.ts'
import type { PromptedMask, SegmentService } from './segment-service.ts'
import type { GeometryPool } from './geometry/geometry-pool.ts'
import { OutlineCache } from './outline-cache.ts'

export type SaveInput = ParsedOf<(typeof annotations)['save']>
export type UpdateInput = ParsedOf<(typeof annotations)['update']>

/** What a revision restores: everything of an annotation but its identity, times and category. */
type Revision = Pick<StoredAnnotation, 'imageId' | 'segmentation' | 'bbox' | 'area' | 'score' | 'prompt' | 'modelId'>

/** The score an annotation records: the decoder's predicted IoU, which may stray outside 0..1. */
function clampScore(score: number): number {
  return Math.min(1, Math.max(0, score))
}

export class AnnotationService {
  /**
   * States of annotations this open of the project has sent, by revision. Kept until the project
   * closes (the renderer's undo histories end then too); a revision of an earlier open is unknown.
   */
  private revisions = new Map<string, Revision>()
  /** The revision last handed out per annotation, so listing an image again mints none. */
  private latest = new Map<number, { updatedAt: string; revision: string }>()
  private minted = 0
  /** Invalid stored annotations already logged in this open. */
  private reported = new Set<number>()
  private readonly outlines = new OutlineCache()

  constructor(
    private readonly projects: ProjectService,
    private readonly model: ModelService,
    private readonly segment: SegmentService,
    private readonly geometry: GeometryPool,
  ) {
    projects.onClosing(async () => {
      this.revisions = new Map()
      this.latest = new Map()
      this.reported = new Set()
      this.outlines.clear()
    })
  }

  /**
   * Outlines of stored masks: polygons are their own; RLE is traced on a worker, once per mask
   * (OutlineCache). An RLE that is not a valid mask gets `{ invalid }` instead of an outline.
   */
  private async outlinesOf(
    segmentations: readonly Segmentation[],
    background: boolean,
  ): Promise<(OutlinePart[] | { invalid: string })[]> {
    const result: (OutlinePart[] | { invalid: string })[] = new Array(segmentations.length)
    const traced: { index: number; rle: CompressedRle }[] = []
    segmentations.forEach((seg, index) => {
      if (Array.isArray(seg)) result[index] = seg.map((outer) => ({ outer, holes: [] }))
      else {
        const hit = this.outlines.get(seg)
        if (hit !== undefined) result[index] = hit
        else traced.push({ index, rle: seg })
      }
    })
    if (traced.length > 0) {
      const outlines = await this.geometry.run('outlines', [traced.map((t) => t.rle)], { background })
      traced.forEach(({ index, rle }, k) => {
        const outline = outlines[k]
        if (Array.isArray(outline)) this.outlines.set(rle, outline)
        result[index] = outline
      })
    }
    return result
  }

  /** The outline of a mask main is about to store (it was made valid by main itself). */
  private async outlineOf(seg: Segmentation): Promise<OutlinePart[]> {
    const [outline] = await this.outlinesOf([seg], false)
    if (!Array.isArray(outline)) throw new RangeError(outline.invalid)
    return outline
  }

  /** The project `opened` is still the open one after an await; otherwise the work is moot. */
  private stillOpen(opened: ReturnType<ProjectService['require']>): void {
    if (this.projects.opened !== opened) throw new CancelledError('the project was closed meanwhile')
  }

  /**
   * The annotation as it crosses IPC: with its outline and the revision of this state. A write
   * (`written`) always mints a new revision; a list reuses the one last minted for the same
   * update time, which is the newest state of that annotation.
   */
  private outgoing(annotation: StoredAnnotation, outline: OutlinePart[], written = false): Annotation {
    const known = this.latest.get(annotation.id)
    let revision = !written && known?.updatedAt === annotation.updatedAt ? known.revision : null
    if (revision === null) {
      revision = `${this.projects.require().token}.${(++this.minted).toString(36)}`
      const { imageId, segmentation, bbox, area, score, prompt, modelId } = annotation
      this.revisions.set(revision, { imageId, segmentation, bbox, area, score, prompt, modelId })
      this.latest.set(annotation.id, { updatedAt: annotation.updatedAt, revision })
    }
    return { ...annotation, outline, revision }
  }

  private revision(token: string, imageId: number): Revision {
    const found = this.revisions.get(token)
    if (found === undefined)
      throw new UserError('annotation', `revision ${token} is not one this open of the project handed out`)
    if (found.imageId !== imageId)
      throw new UserError('annotation', `revision ${token} belongs to image ${found.imageId}, not ${imageId}`)
    return found
  }

  /** The image an annotation's rings refer to, with its size. */
  private sizedImage(imageId: number): ProjectImage & { width: number; height: number } {
    const image = this.projects.require().project.getImage(imageId)
    if (image.width === null || image.height === null) {
      throw new UserError(
        'image-unreadable',
        `${image.path}: the image size is unknown (${image.error ?? 'header not read yet'})`,
      )
    }
    return image as ProjectImage & { width: number; height: number }
  }

  private async fromPrompt(mask: PromptedMask): Promise<Omit<Revision, 'imageId'>> {
    const { segmentation, bbox, area, score, prompt } = mask
    // The model is recorded by main, from what it actually ran.
    return { segmentation, bbox, area, score: clampScore(score), prompt, modelId: await this.model.activeModelId() }
  }

  /**
   * The image's annotations. One whose stored mask is not a mask of the image (written by an
   * older build, by hand, or by a tool that knew no better) is left out and logged once per
   * open, never traced: its neighbours still list, and nothing hangs on a run of 2^34 pixels.
   * Exports leave it out too and name its id.
   */
  async list(imageId: number): Promise<Annotation[]> {
    const opened = this.projects.require()
    const image = opened.project.getImage(imageId)
    const stored: StoredAnnotation[] = []
    const invalid: { annotation: StoredAnnotation; problem: string }[] = []
    for (const annotation of opened.project.listAnnotations(imageId)) {
      const seg = annotation.segmentation
      if (!Array.isArray(seg) && image.width !== null && (seg.size[0] !== image.height || seg.size[1] !== image.width))
        invalid.push({
          annotation,
          problem: `RLE size [${seg.size.join(', ')}] is not the image's [${image.height}, ${image.width}]`,
        })
      else stored.push(annotation)
    }
    const outlines = await this.outlinesOf(
      stored.map((a) => a.segmentation),
      true,
    )
    this.stillOpen(opened)
    const listed: Annotation[] = []
    stored.forEach((annotation, i) => {
      const outline = outlines[i]
      if (Array.isArray(outline)) listed.push(this.outgoing(annotation, outline))
      else invalid.push({ annotation, problem: outline.invalid })
    })
    for (const { annotation, problem } of invalid) {
      if (this.reported.has(annotation.id)) continue
      this.reported.add(annotation.id)
      console.warn(
        `[annotations] ${image.path}: annotation ${annotation.id} left out, its stored mask is invalid: ${problem}`,
      )
    }
    return listed
  }

  async save(input: SaveInput): Promise<Annotation> {
    const opened = this.projects.require()
    const { project } = opened
    const { imageId, categoryId } = input
    let state: Omit<Revision, 'imageId'>
    if ('rings' in input) {
      const image = this.sizedImage(imageId)
      const { segmentation, bbox, area } = await this.geometry.run('polygonGeometry', [
        input.rings,
        image.width,
        image.height,
      ])
      state = { segmentation, bbox, area, score: null, prompt: null, modelId: null }
    } else if ('prompted' in input) {
      project.getImage(imageId)
      state = await this.fromPrompt(await this.segment.takePromptedMask(imageId))
    } else {
      state = this.revision(input.revision, imageId)
    }
    const { segmentation, bbox, area, score, prompt, modelId } = state
    const outline = await this.outlineOf(segmentation)
    this.stillOpen(opened)
    const saved = await project.saveAnnotation({
      imageId,
      categoryId,
      segmentation,
      bbox,
      area,
      score,
      prompt,
      modelId,
    })
    this.stillOpen(opened)
    return this.outgoing(saved, outline, true)
  }

  async update(input: UpdateInput): Promise<Annotation> {
    const opened = this.projects.require()
    const { project } = opened
    const existing = project.getAnnotation(input.annotationId)
    const patch: AnnotationPatch = {}
    if (input.categoryId !== undefined) patch.categoryId = input.categoryId
    if (input.rings !== undefined) {
      const image = this.sizedImage(existing.imageId)
      const { segmentation, bbox, area } = await this.geometry.run('polygonGeometry', [
        input.rings,
        image.width,
        image.height,
      ])
      Object.assign(patch, { segmentation, bbox, area })
    } else if (input.prompted !== undefined) {
      const mask = await this.segment.takePromptedMask(existing.imageId)
      if (mask.reprompt !== existing.id) {
        const what = mask.reprompt === null ? 'a new object' : `annotation ${mask.reprompt}`
        throw new UserError(
          'no-prompted-mask',
          `the mask being prompted is ${what}, not a re-prompt of annotation ${existing.id}`,
        )
      }
      const state = await this.fromPrompt(mask)
      // The stored prompt keeps every click that shaped the annotation, earlier ones first.
      const before = existing.prompt
      state.prompt = {
        points: [...(before?.points ?? []), ...mask.prompt.points],
        box: mask.prompt.box ?? before?.box ?? null,
      }
      Object.assign(patch, state)
    } else if (input.revision !== undefined) {
      const { imageId: _imageId, ...state } = this.revision(input.revision, existing.imageId)
      Object.assign(patch, state)
    }
    const outline = await this.outlineOf(patch.segmentation ?? existing.segmentation)
    this.stillOpen(opened)
    const updated = await project.updateAnnotation(existing.id, patch)
    this.stillOpen(opened)
    return this.outgoing(updated, outline, true)
  }

  async delete(annotationId: number): Promise<null> {
    await this.projects.require().project.deleteAnnotation(annotationId)
    return null
  }

  /** The mask being prompted on the annotation's image, added to it or cut from it. */
  async combine(annotationId: number, op: 'add' | 'subtract'): Promise<Annotation> {
    const opened = this.projects.require()
    const { project } = opened
    const annotation = project.getAnnotation(annotationId)
    const image = this.sizedImage(annotation.imageId)
    const mask = await this.segment.takePromptedMask(annotation.imageId)
    if (mask.reprompt === annotation.id) {
      throw new UserError(
        'no-prompted-mask',
        `the mask being prompted re-prompts annotation ${annotation.id} itself: save it instead`,
      )
    }
    const combined = await this.geometry.run('combine', [
      annotation.segmentation,
      mask.segmentation,
      op,
      image.width,
      image.height,
    ])
    const outline = await this.outlineOf(combined.segmentation)
    this.stillOpen(opened)
    const { segmentation, bbox, area } = combined
    const updated = await project.updateAnnotation(annotationId, { segmentation, bbox, area })
    this.stillOpen(opened)
    return this.outgoing(updated, outline, true)
  }
}
