// The handler table: one entry per contract method, each a one-line call into a service.
// Arguments arrive already parsed by the channel's schema (ipc.ts); what a call does lives in
// the services (src-main/services/). TypeScript holds the table to the contract (a missing or
// extra method fails to compile).
import type { HandlerTable } from './ipc.ts'
import type { AppServices } from './services/app-services.ts'

export function createHandlers(app: AppServices): HandlerTable {
  const { projects, images, annotations, categories, segment, exports, model } = app
  return {
    project: {
      open: ({ folder }) => projects.openRecent(folder),
      openDialog: () => projects.openWithDialog(),
      recent: () => projects.recentProjects(),
      forgetRecent: ({ folder }) => projects.forgetRecent(folder),
      current: () => projects.current(),
      close: () => projects.close(),
      rescan: () => projects.rescan(),
    },
    images: {
      list: (input) => images.list(input),
      get: ({ imageId }) => images.get(imageId),
      urls: ({ imageId }) => images.urls(imageId),
      setStatus: ({ imageId, status }) => images.setStatus(imageId, status),
    },
    annotations: {
      list: ({ imageId }) => annotations.list(imageId),
      save: (input) => annotations.save(input),
      update: (input) => annotations.update(input),
      delete: ({ annotationId }) => annotations.delete(annotationId),
      combine: ({ annotationId, op }) => annotations.combine(annotationId, op),
    },
    categories: {
      list: () => categories.list(),
      create: (input) => categories.create(input),
      rename: ({ categoryId, name }) => categories.rename(categoryId, name),
      recolor: ({ categoryId, color }) => categories.recolor(categoryId, color),
      reorder: ({ categoryIds }) => categories.reorder(categoryIds),
      delete: ({ categoryId, force }) => categories.delete(categoryId, force),
    },
    segment: {
      setCurrent: ({ imageId }) => segment.setCurrent(imageId),
      embeddingStatus: ({ imageId }) => segment.embeddingStatus(imageId),
      decode: (input) => segment.decode(input),
      reset: () => segment.reset(),
    },
    export: {
      coco: (input) => exports.coco(input?.segmentation),
      yolo: () => exports.yolo(),
      importCoco: () => exports.importCoco(),
    },
    model: {
      info: () => model.info(),
    },
  }
}
