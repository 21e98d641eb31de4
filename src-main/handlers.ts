// The handler table: one entry per contract method, each a one-line call into the AppSession.
// Arguments arrive already parsed by the channel's schema (ipc.ts), so entries only adapt
// shapes; TypeScript holds the table to the contract (a missing or extra method fails to compile).
import { UserError } from './core/errors.ts'
import type { AnnotationInput, AnnotationPatch } from './core/project/index.ts'
import { combineSegmentations, rleToShape } from './core/segment/mask-ops.ts'
import { rleFromString } from './core/segment/rle.ts'
import type { Annotation } from './core/project/index.ts'

/** RLE annotations (shapes with holes) carry their outline, so the renderer draws and edits rings only. */
function withOutline(annotation: Annotation): Annotation & { outline?: { outer: number[]; holes: number[][] }[] } {
  if (Array.isArray(annotation.segmentation)) return annotation
  return { ...annotation, outline: rleToShape(rleFromString(annotation.segmentation)).parts }
}
import type { HandlerTable } from './ipc.ts'
import type { AppSession } from './services/app-session.ts'

export function createHandlers(session: AppSession): HandlerTable {
  const project = () => {
    const open = session.project
    if (open === null) throw noProjectError()
    return open
  }
  return {
    project: {
      open: ({ folder }) => session.openRecent(folder),
      openDialog: () => session.openWithDialog(),
      recent: () => session.recentProjects(),
      forgetRecent: ({ folder }) => session.forgetRecent(folder),
      current: () => session.current(),
      close: () => session.closeProject(),
      rescan: () => session.rescan(),
    },
    images: {
      list: (input) => session.listImages(input),
      get: ({ imageId }) => session.getImage(imageId),
      urls: ({ imageId }) => session.imageUrls(imageId),
      setStatus: ({ imageId, status }) => session.setImageStatus(imageId, status),
    },
    annotations: {
      list: ({ imageId }) => project().listAnnotations(imageId).map(withOutline),
      save: async ({ score, prompt, ...rest }) => {
        const open = project()
        // The model is recorded by main, from what it actually ran: only prompted masks have one.
        const input: AnnotationInput = {
          ...rest,
          score: score ?? null,
          prompt: prompt ?? null,
          modelId: prompt ? await session.activeModelId() : null,
        }
        return withOutline(open.saveAnnotation(input))
      },
      update: ({ annotationId, patch }) => withOutline(project().updateAnnotation(annotationId, patch as AnnotationPatch)),
      delete: ({ annotationId }) => {
        project().deleteAnnotation(annotationId)
        return null
      },
      combine: ({ annotationId, segmentation, op }) => {
        const open = project()
        const annotation = open.getAnnotation(annotationId)
        const image = open.getImage(annotation.imageId)
        if (image.width === null || image.height === null) {
          throw new UserError('image-unreadable', `${image.path}: the image size is unknown (${image.error ?? 'header not read yet'})`)
        }
        const combined = combineSegmentations(annotation.segmentation, segmentation, op, image.width, image.height)
        return withOutline(open.updateAnnotation(annotationId, { segmentation: combined.segmentation, bbox: combined.bbox, area: combined.area }))
      },
    },
    categories: {
      list: () => project().listCategories(),
      create: (input) => project().createCategory(input),
      rename: ({ categoryId, name }) => project().renameCategory(categoryId, name),
      recolor: ({ categoryId, color }) => project().recolorCategory(categoryId, color),
      reorder: ({ categoryIds }) => project().reorderCategories(categoryIds),
      delete: ({ categoryId, force }) => {
        project().deleteCategory(categoryId, { force })
        return null
      },
    },
    segment: {
      setCurrent: ({ imageId }) => session.setCurrentImage(imageId),
      embeddingStatus: ({ imageId }) => session.embeddingStatus(imageId),
      decode: (input) => session.decode(input),
      reset: () => session.resetPrompt(),
    },
    export: {
      coco: (input) => session.exportCoco(input?.segmentation),
      yolo: () => session.exportYolo(),
      importCoco: () => session.importCoco(),
    },
    model: {
      info: () => session.modelInfo(),
    },
  }
}

function noProjectError(): UserError {
  return new UserError('no-project', 'no project is open: open an image folder first')
}
