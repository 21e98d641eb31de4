// The open project's annotations: list, save, update, delete, and combine (add a mask to an
// annotation or cut it away). Every annotation that leaves main carries its outline.
import { UserError } from '../core/errors.ts'
import type { AnnotationInput, AnnotationPatch, StoredAnnotation } from '../core/project/index.ts'
import { combineSegmentations, rleToShape } from '../core/segment/mask-ops.ts'
import { rleFromString } from '../core/segment/rle.ts'
import type { Annotation } from '../../src-preload/contract/annotations.ts'
import type { annotations } from '../../src-preload/contract/annotations.ts'
import type { ParsedOf } from '../../src-preload/contract/define.ts'
import type { Segmentation } from '../../src-preload/contract/schemas.ts'
import type { ModelService } from './model-service.ts'
import type { ProjectService } from './project-service.ts'

export type SaveInput = ParsedOf<(typeof annotations)['save']>

/** RLE annotations (shapes with holes) carry their outline, so the renderer draws and edits rings only. */
function withOutline(annotation: StoredAnnotation): Annotation {
  if (Array.isArray(annotation.segmentation)) return annotation
  return { ...annotation, outline: rleToShape(rleFromString(annotation.segmentation)).parts }
}

export class AnnotationService {
  constructor(
    private readonly projects: ProjectService,
    private readonly model: ModelService,
  ) {}

  list(imageId: number): Annotation[] {
    return this.projects.require().project.listAnnotations(imageId).map(withOutline)
  }

  async save({ score, prompt, ...rest }: SaveInput): Promise<Annotation> {
    const { project } = this.projects.require()
    // The model is recorded by main, from what it actually ran: only prompted masks have one.
    const input: AnnotationInput = {
      ...rest,
      score: score ?? null,
      prompt: prompt ?? null,
      modelId: prompt ? await this.model.activeModelId() : null,
    }
    return withOutline(project.saveAnnotation(input))
  }

  update(annotationId: number, patch: AnnotationPatch): Annotation {
    return withOutline(this.projects.require().project.updateAnnotation(annotationId, patch))
  }

  delete(annotationId: number): null {
    this.projects.require().project.deleteAnnotation(annotationId)
    return null
  }

  combine(annotationId: number, segmentation: Segmentation, op: 'add' | 'subtract'): Annotation {
    const { project } = this.projects.require()
    const annotation = project.getAnnotation(annotationId)
    const image = project.getImage(annotation.imageId)
    if (image.width === null || image.height === null) {
      throw new UserError('image-unreadable', `${image.path}: the image size is unknown (${image.error ?? 'header not read yet'})`)
    }
    const combined = combineSegmentations(annotation.segmentation, segmentation, op, image.width, image.height)
    return withOutline(project.updateAnnotation(annotationId, { segmentation: combined.segmentation, bbox: combined.bbox, area: combined.area }))
  }
}
