// Everything main's window talks to, composed once: the model, the open project, its images,
// annotations and categories, segmenting, and export/import. Each service has one job; the IPC
// handler table (handlers.ts) is one call per channel into them. No Electron here, so tests build
// the same object over a real project folder and the real demo model. Dialogs and the event
// channel to the renderer are the process boundaries, passed in.
import type { Engine } from '../core/segment/engine.ts'
import { AnnotationService } from './annotation-service.ts'
import type { Dialogs, EventSink } from './boundaries.ts'
import { CategoryService } from './category-service.ts'
import { ExportService } from './export-service.ts'
import { GeometryPool } from './geometry/geometry-pool.ts'
import { ImageService } from './image-service.ts'
import { ModelService } from './model-service.ts'
import { ProjectService } from './project-service.ts'
import { SegmentService } from './segment-service.ts'

export type { Dialogs, EventSink, FileFilter } from './boundaries.ts'
export type { ServableImage } from './image-service.ts'

export interface AppServicesOptions {
  /** The engine being loaded; a rejection is reported by every call that needs the model. */
  engine: Promise<Engine>
  /** Where the recent list lives (the app's user-data folder). */
  userDataDir: string
  dialogs: Dialogs
  emit: EventSink
  /** Root for projects of read-only folders; default: the one the CLI uses too. */
  projectUserDataDir?: string
  /** Neighbours prefetched on each side of the current image. */
  prefetch?: number
}

export class AppServices {
  readonly model: ModelService
  readonly projects: ProjectService
  readonly images: ImageService
  readonly annotations: AnnotationService
  readonly categories: CategoryService
  readonly segment: SegmentService
  readonly exports: ExportService
  /** Worker threads for mask geometry, shared by segmenting and annotations. */
  readonly geometry: GeometryPool

  constructor(options: AppServicesOptions) {
    this.geometry = new GeometryPool()
    this.model = new ModelService(options.engine)
    this.projects = new ProjectService({ ...options, model: this.model })
    this.images = new ImageService(this.projects)
    this.segment = new SegmentService(this.projects, this.model, this.geometry)
    this.annotations = new AnnotationService(this.projects, this.model, this.segment, this.geometry)
    this.categories = new CategoryService(this.projects)
    this.exports = new ExportService(this.projects, options.dialogs, options.emit)
  }

  /** Closes everything (app quit): the project, then the model and the geometry workers. */
  async dispose(): Promise<void> {
    await this.projects.close()
    await this.model.close()
    await this.geometry.close()
  }
}
