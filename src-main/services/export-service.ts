// COCO and YOLO export and COCO import of the open project, each through its native dialog,
// with progress events; a cancelled dialog answers null.
import { basename } from 'node:path'
import { exportCoco, exportYolo, importCoco, skippedAnnotationTotal } from '../core/coco/index.ts'
import type { ExportSummary, ImportSummary } from '../../src-preload/contract/export.ts'
import type { Dialogs, EventSink, FileFilter } from './boundaries.ts'
import type { ProjectService } from './project-service.ts'

const COCO_FILTERS: FileFilter[] = [{ name: 'COCO JSON', extensions: ['json'] }]

export class ExportService {
  constructor(
    private readonly projects: ProjectService,
    private readonly dialogs: Dialogs,
    private readonly emit: EventSink,
  ) {}

  async coco(segmentation: 'auto' | 'polygon' | 'rle' | undefined): Promise<ExportSummary | null> {
    const opened = this.projects.require()
    const { project } = opened
    const file = await this.dialogs.chooseSaveFile({
      title: 'Export COCO annotations',
      defaultPath: `${basename(project.folder)}.coco.json`,
      filters: COCO_FILTERS,
    })
    if (file === null) return null
    const result = await this.projects.during(
      () =>
        exportCoco(project, file, {
          segmentation,
          onProgress: (done, total) => this.emit('progress', { task: 'export-coco', done, total }),
        }),
      opened,
    )
    const skipped = result.skippedAnnotations
    return {
      file: result.file,
      images: result.images,
      categories: result.categories,
      annotations: result.annotations,
      skippedImages: result.skippedImages,
      skippedImagePaths: result.skippedImagePaths,
      skippedAnnotations: skippedAnnotationTotal(skipped),
      durationMs: result.durationMs,
    }
  }

  async yolo(): Promise<ExportSummary | null> {
    const opened = this.projects.require()
    const { project } = opened
    const dir = await this.dialogs.chooseFolder({ title: 'Export YOLO dataset into a folder' })
    if (dir === null) return null
    const result = await this.projects.during(
      () =>
        exportYolo(project, dir, {
          imagesFolder: project.folder,
          onProgress: (done, total) => this.emit('progress', { task: 'export-yolo', done, total }),
        }),
      opened,
    )
    return {
      file: result.dataYaml,
      images: result.images,
      categories: project.listCategories().length,
      annotations: result.annotations,
      skippedImages: result.skippedImages,
      skippedImagePaths: result.skippedImagePaths,
      skippedAnnotations: result.skippedAnnotations,
      imagesInPlace: result.imagesInPlace,
      durationMs: result.durationMs,
    }
  }

  async importCoco(): Promise<ImportSummary | null> {
    const opened = this.projects.require()
    const { project } = opened
    const file = await this.dialogs.chooseOpenFile({ title: 'Import COCO annotations', filters: COCO_FILTERS })
    if (file === null) return null
    // Closing the project cancels the import: nothing of it lands.
    const result = await this.projects.during(
      (_opened, signal) =>
        importCoco(project, file, {
          signal,
          onProgress: (done, total) => this.emit('progress', { task: 'import-coco', done, total }),
        }),
      opened,
    )
    return {
      file: result.file,
      imported: result.imported,
      matchedImages: result.matchedImages,
      skippedImages: result.skippedImages,
      categoriesCreated: result.categoriesCreated,
      skippedAnnotations: result.skippedAnnotations,
      durationMs: result.durationMs,
    }
  }
}
