// The open project's annotations: list, save, update, delete, combine. Main decides every
// geometry it stores (core/segment/segmentation.ts): rings are checked and measured here, a
// prompted mask is taken from the segment service's prompt history exactly as decoded, a
// combined mask is computed from the two masks. Every annotation that leaves main carries its
// outline and a revision that restores that state later (undo, redo).
import { UserError } from '../core/errors.ts'
import type { AnnotationPatch, ProjectImage, StoredAnnotation } from '../core/project/index.ts'
import { combineSegmentations, outlineOf } from '../core/segment/mask-ops.ts'
import { polygonGeometry } from '../core/segment/segmentation.ts'
import type { Annotation } from '../../src-preload/contract/annotations.ts'
import type { annotations } from '../../src-preload/contract/annotations.ts'
import type { ParsedOf } from '../../src-preload/contract/define.ts'
import type { ModelService } from './model-service.ts'
import type { ProjectService } from './project-service.ts'
import type { PromptedMask, SegmentService } from './segment-service.ts'

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

  constructor(
    private readonly projects: ProjectService,
    private readonly model: ModelService,
    private readonly segment: SegmentService,
  ) {
    projects.onClosing(async () => {
      this.revisions = new Map()
      this.latest = new Map()
      this.reported = new Set()
    })
  }

  /**
   * The annotation as it crosses IPC: with its outline and the revision of this state. A write
   * (`written`) always mints a new revision; a list reuses the one last minted for the same
   * update time, which is the newest state of that annotation.
   */
  private outgoing(annotation: StoredAnnotation, written = false): Annotation {
    const known = this.latest.get(annotation.id)
    let revision = !written && known?.updatedAt === annotation.updatedAt ? known.revision : null
    if (revision === null) {
      revision = `${this.projects.require().token}.${(++this.minted).toString(36)}`
      const { imageId, segmentation, bbox, area, score, prompt, modelId } = annotation
      this.revisions.set(revision, { imageId, segmentation, bbox, area, score, prompt, modelId })
      this.latest.set(annotation.id, { updatedAt: annotation.updatedAt, revision })
    }
    return { ...annotation, outline: outlineOf(annotation.segmentation), revision }
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
  list(imageId: number): Annotation[] {
    const { project } = this.projects.require()
    const image = project.getImage(imageId)
    const listed: Annotation[] = []
    for (const annotation of project.listAnnotations(imageId)) {
      const seg = annotation.segmentation
      try {
        if (
          !Array.isArray(seg) &&
          image.width !== null &&
          (seg.size[0] !== image.height || seg.size[1] !== image.width)
        ) {
          throw new RangeError(`RLE size [${seg.size.join(', ')}] is not the image's [${image.height}, ${image.width}]`)
        }
        listed.push(this.outgoing(annotation))
      } catch (err) {
        if (!(err instanceof RangeError)) throw err
        if (!this.reported.has(annotation.id)) {
          this.reported.add(annotation.id)
          console.warn(
            `[annotations] ${image.path}: annotation ${annotation.id} left out, its stored mask is invalid: ${err.message}`,
          )
        }
      }
    }
    return listed
  }

  async save(input: SaveInput): Promise<Annotation> {
    const { project } = this.projects.require()
    const { imageId, categoryId } = input
    let state: Omit<Revision, 'imageId'>
    if ('rings' in input) {
      const image = this.sizedImage(imageId)
      const { segmentation, bbox, area } = polygonGeometry(input.rings, image.width, image.height)
      state = { segmentation, bbox, area, score: null, prompt: null, modelId: null }
    } else if ('prompted' in input) {
      project.getImage(imageId)
      state = await this.fromPrompt(await this.segment.takePromptedMask(imageId))
    } else {
      state = this.revision(input.revision, imageId)
    }
    const { segmentation, bbox, area, score, prompt, modelId } = state
    return this.outgoing(
      await project.saveAnnotation({ imageId, categoryId, segmentation, bbox, area, score, prompt, modelId }),
      true,
    )
  }

  async update(input: UpdateInput): Promise<Annotation> {
    const { project } = this.projects.require()
    const existing = project.getAnnotation(input.annotationId)
    const patch: AnnotationPatch = {}
    if (input.categoryId !== undefined) patch.categoryId = input.categoryId
    if (input.rings !== undefined) {
      const image = this.sizedImage(existing.imageId)
      const { segmentation, bbox, area } = polygonGeometry(input.rings, image.width, image.height)
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
    return this.outgoing(await project.updateAnnotation(existing.id, patch), true)
  }

  async delete(annotationId: number): Promise<null> {
    await this.projects.require().project.deleteAnnotation(annotationId)
    return null
  }

  /** The mask being prompted on the annotation's image, added to it or cut from it. */
  async combine(annotationId: number, op: 'add' | 'subtract'): Promise<Annotation> {
    const { project } = this.projects.require()
    const annotation = project.getAnnotation(annotationId)
    const image = this.sizedImage(annotation.imageId)
    const mask = await this.segment.takePromptedMask(annotation.imageId)
    if (mask.reprompt === annotation.id) {
      throw new UserError(
        'no-prompted-mask',
        `the mask being prompted re-prompts annotation ${annotation.id} itself: save it instead`,
      )
    }
    const combined = combineSegmentations(annotation.segmentation, mask.segmentation, op, image.width, image.height)
    return this.outgoing(
      await project.updateAnnotation(annotationId, {
        segmentation: combined.segmentation,
        bbox: combined.bbox,
        area: combined.area,
      }),
      true,
    )
  }
}
