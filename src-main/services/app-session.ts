// What the app has open: the segmentation engine (loaded once at start-up), at most one
// project with its embedding scheduler, and the prompt session of the object being segmented.
// Every IPC handler is a thin call into this class; it imports no Electron, so tests build it
// over a real project folder and the real demo model. Dialogs and the event channel to the
// renderer are the process boundaries, passed in.
import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { UserError } from '../core/errors.ts'
import { exportCoco, exportYolo, importCoco } from '../core/coco/index.ts'
import { openProjectEmbeddings, type EmbeddingScheduler, type SchedulerEvent } from '../core/embeddings/index.ts'
import { Project, type ImageRow, type ScanSummary } from '../core/project/index.ts'
import type { Engine } from '../core/segment/engine.ts'
import type { PromptHistory } from '../core/segment/prompt.ts'
import type { EventName, EventPayloads } from '../../src-preload/contract/events.ts'
import type { ExportSummary, ImportSummary } from '../../src-preload/contract/export.ts'
import type { ImagePage, ImageStatus, ImageSummary, ImageUrls } from '../../src-preload/contract/images.ts'
import { imageUrl, previewSize } from '../../src-preload/contract/images.ts'
import type { ModelInfo } from '../../src-preload/contract/model.ts'
import type { ProjectSummary, RecentProject } from '../../src-preload/contract/project.ts'
import type { DecodeResult, EmbeddingStatus } from '../../src-preload/contract/segment.ts'
import { RecentProjects } from './recent-projects.ts'

export type EventSink = <E extends EventName>(name: E, payload: EventPayloads[E]) => void

export interface FileFilter {
  name: string
  extensions: string[]
}

/** Native dialogs (Electron's `dialog` in the app). Each resolves null when cancelled. */
export interface Dialogs {
  chooseFolder(options: { title: string }): Promise<string | null>
  chooseSaveFile(options: { title: string; defaultPath: string; filters: FileFilter[] }): Promise<string | null>
  chooseOpenFile(options: { title: string; filters: FileFilter[] }): Promise<string | null>
}

export interface AppSessionOptions {
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

/** An image the protocol may serve: its file and, when known, its oriented size. */
export interface ServableImage {
  id: number
  file: string
  width: number | null
  height: number | null
}

interface OpenProject {
  project: Project
  /** Names this open in image URLs (see imageUrl): unique per open, never reused. */
  token: string
  embeddings: Promise<EmbeddingScheduler>
  headers: AbortController
  scan: ScanSummary | null
  stopEvents: (() => void) | null
}

const COCO_FILTERS: FileFilter[] = [{ name: 'COCO JSON', extensions: ['json'] }]

function noProject(): UserError {
  return new UserError('no-project', 'no project is open: open an image folder first')
}

function toImageSummary(row: ImageRow): ImageSummary {
  return {
    id: row.id,
    path: row.path,
    width: row.width,
    height: row.height,
    size: row.size,
    status: row.status,
    missing: row.missing,
    error: row.error,
    annotationCount: row.annotationCount,
  }
}

export class AppSession {
  readonly recent: RecentProjects
  private readonly options: AppSessionOptions
  private open: OpenProject | null = null
  /** Projects opened so far (part of each open's token). */
  private opens = 0
  /** Serialises opening and closing: a second open waits for the first. */
  private switching: Promise<unknown> = Promise.resolve()
  private prompt: { imageId: number; session: PromptHistory; reprompt: number | null } | null = null
  /** Serialises decodes: a prompt session's history must see clicks in order. */
  private decoding: Promise<unknown> = Promise.resolve()

  constructor(options: AppSessionOptions) {
    this.options = options
    this.recent = new RecentProjects(options.userDataDir)
    // An engine that fails to load is reported by the calls that need it, not as an unhandled rejection.
    options.engine.catch(() => {})
  }

  // --- model ----------------------------------------------------------------------------------

  async modelInfo(): Promise<ModelInfo> {
    const { info } = await this.options.engine
    return {
      id: info.id,
      name: info.name,
      demo: info.demo,
      provider: info.provider,
      providerNotes: info.providerAttempts.map((attempt) => attempt.reason),
      dir: info.dir,
    }
  }

  // --- project --------------------------------------------------------------------------------

  get project(): Project | null {
    return this.open?.project ?? null
  }

  private requireProject(): OpenProject {
    if (this.open === null) throw noProject()
    return this.open
  }

  /** Opens `folder` as the project (closing the current one), scans it, and starts the background work. */
  openFolder(folder: string): Promise<ProjectSummary> {
    const next = this.switching.then(() => this.doOpen(folder))
    this.switching = next.catch(() => {})
    return next
  }

  private async doOpen(folder: string): Promise<ProjectSummary> {
    // The next project is opened and scanned before the current one closes: when it cannot be
    // opened (a damaged database, a folder gone), the window keeps working on the current one
    // instead of showing a project main no longer has. SQLite lets the same folder's database
    // be open twice for that moment.
    const project = Project.open(folder, { userDataDir: this.options.projectUserDataDir })
    let scan: ScanSummary
    try {
      scan = await project.scan({ onProgress: (done, total) => this.options.emit('progress', { task: 'scan', done, total }) })
    } catch (err) {
      project.close()
      throw err
    }
    await this.doClose()
    const opened: OpenProject = {
      project,
      token: `${(++this.opens).toString(36)}${randomBytes(4).readUInt32BE(0).toString(36)}`,
      embeddings: this.startEmbeddings(project),
      headers: new AbortController(),
      scan,
      stopEvents: null,
    }
    this.open = opened
    opened.embeddings.catch(() => {})
    void this.readHeaders(opened)
    this.recent.add(project.folder)
    const summary = this.summary(opened)
    this.options.emit('project', summary)
    return summary
  }

  /** Header reading (sizes, errors) continues in the background; progress goes out as events. */
  private async readHeaders(opened: OpenProject): Promise<void> {
    try {
      await opened.project.readPendingHeaders({
        signal: opened.headers.signal,
        onProgress: (done, total) => this.options.emit('progress', { task: 'headers', done, total }),
      })
    } catch (err) {
      if (this.open === opened) console.error(`[project] reading image headers of ${opened.project.folder} failed:`, err)
    }
  }

  private async startEmbeddings(project: Project): Promise<EmbeddingScheduler> {
    const engine = await this.options.engine
    const scheduler = await openProjectEmbeddings(engine, project, { prefetch: this.options.prefetch })
    const current = this.open
    if (current?.project !== project) {
      await scheduler.close()
      throw new UserError('cancelled', 'the project was closed while its embedding cache opened')
    }
    current.stopEvents = scheduler.on((event) => this.forwardSchedulerEvent(event))
    scheduler.setOrder(this.servableRows(project).map((row) => ({ file: project.absolutePath(row), id: row.id })))
    return scheduler
  }

  private servableRows(project: Project): ImageRow[] {
    return project.listImages({ missing: false })
  }

  private forwardSchedulerEvent(event: SchedulerEvent): void {
    if (event.type === 'state') {
      if (event.image.id === undefined) return
      this.options.emit('embedding', {
        imageId: event.image.id,
        state: event.state,
        ...(event.source ? { source: event.source } : {}),
        ...(event.error ? { error: event.error.message } : {}),
        ...(event.expectedMs !== undefined ? { expectedMs: event.expectedMs } : {}),
      })
    } else if (event.type === 'queue') {
      this.options.emit('queue', { queued: event.queued, running: event.running, currentImageId: event.current?.id ?? null })
    }
  }

  private summary(opened: OpenProject): ProjectSummary {
    const { project } = opened
    return {
      openId: opened.token,
      folder: project.folder,
      name: basename(project.folder),
      location: project.location,
      notice: project.notice,
      counts: project.counts(),
      scan: opened.scan === null ? null : { ...opened.scan },
    }
  }

  /** A folder from the recent list (the only paths a renderer may name). */
  openRecent(folder: string): Promise<ProjectSummary> {
    if (!this.recent.has(folder)) {
      throw new UserError('not-recent', `${folder} is not on the recent projects list; open it with the folder dialog`)
    }
    return this.openFolder(folder)
  }

  async openWithDialog(): Promise<ProjectSummary | null> {
    const folder = await this.options.dialogs.chooseFolder({ title: 'Open an image folder' })
    return folder === null ? null : this.openFolder(folder)
  }

  recentProjects(): RecentProject[] {
    return this.recent.list()
  }

  forgetRecent(folder: string): RecentProject[] {
    this.recent.remove(folder)
    return this.recent.list()
  }

  current(): ProjectSummary | null {
    return this.open === null ? null : this.summary(this.open)
  }

  async rescan(): Promise<ProjectSummary> {
    const opened = this.requireProject()
    opened.scan = await opened.project.scan({ onProgress: (done, total) => this.options.emit('progress', { task: 'scan', done, total }) })
    void this.readHeaders(opened)
    const scheduler = await opened.embeddings.catch(() => null)
    scheduler?.setOrder(this.servableRows(opened.project).map((row) => ({ file: opened.project.absolutePath(row), id: row.id })))
    return this.summary(opened)
  }

  closeProject(): Promise<null> {
    const next = this.switching.then(async () => {
      const had = this.open !== null
      await this.doClose()
      if (had) this.options.emit('project', null)
      return null
    })
    this.switching = next.catch(() => {})
    return next
  }

  private async doClose(): Promise<void> {
    const opened = this.open
    if (opened === null) return
    this.open = null
    this.prompt = null
    opened.headers.abort()
    const scheduler = await opened.embeddings.catch(() => null)
    opened.stopEvents?.()
    await scheduler?.close()
    // Let header reading reach its abort check before the database goes away.
    await this.decoding.catch(() => {})
    opened.project.close()
  }

  /** Closes everything (app quit). */
  async dispose(): Promise<void> {
    await this.closeProject()
    const engine = await this.options.engine.catch(() => null)
    await engine?.close()
  }

  // --- images ---------------------------------------------------------------------------------

  listImages(input: { offset: number; limit: number; status?: ImageStatus }): ImagePage {
    const { project } = this.requireProject()
    const images = project.listImages({ status: input.status, offset: input.offset, limit: input.limit }).map(toImageSummary)
    const total = input.status === undefined ? project.counts().images : project.listImages({ status: input.status }).length
    return { images, total, offset: input.offset }
  }

  getImage(imageId: number): ImageSummary {
    return toImageSummary(this.requireProject().project.getImage(imageId))
  }

  imageUrls(imageId: number): ImageUrls {
    const opened = this.requireProject()
    const image = opened.project.getImage(imageId)
    const preview = image.width !== null && image.height !== null ? previewSize(image.width, image.height) : null
    // A rescan that finds the file changed updates its size and header: a new URL, new pixels.
    const version = [opened.token, image.size, image.width ?? 0, image.height ?? 0].map((part) => (typeof part === 'number' ? part.toString(36) : part)).join('.')
    return {
      preview: imageUrl('preview', image.id, version),
      full: imageUrl('image', image.id, version),
      width: image.width,
      height: image.height,
      previewWidth: preview?.width ?? null,
      previewHeight: preview?.height ?? null,
      downscaled: preview?.downscaled ?? false,
    }
  }

  setImageStatus(imageId: number, status: ImageStatus): ImageSummary {
    const { project } = this.requireProject()
    project.setImageStatus(imageId, status)
    return toImageSummary(project.getImage(imageId))
  }

  /**
   * For the image protocol: the image of the open project with this id, or null. A URL versioned
   * by an earlier open names an image of another project (or of this one before it was closed):
   * null too. Never throws.
   */
  servableImage(imageId: number, version: string | null = null): ServableImage | null {
    const opened = this.open
    if (opened === null) return null
    if (version !== null && !version.startsWith(`${opened.token}.`)) return null
    const project = opened.project
    let row: ImageRow
    try {
      row = project.getImage(imageId)
    } catch {
      return null
    }
    if (row.missing) return null
    return { id: row.id, file: project.absolutePath(row), width: row.width, height: row.height }
  }

  // --- segmentation ---------------------------------------------------------------------------

  /** The image file to segment, refusing images that are gone or unreadable. */
  private segmentableImage(imageId: number): { row: ImageRow; file: string; opened: OpenProject } {
    const opened = this.requireProject()
    const row = opened.project.getImage(imageId)
    if (row.missing) throw new UserError('image-missing', `${row.path}: the image file was not found by the last scan`)
    if (row.error !== null) throw new UserError('image-unreadable', `${row.path}: ${row.error}`)
    return { row, file: opened.project.absolutePath(row), opened }
  }

  async setCurrentImage(imageId: number | null): Promise<EmbeddingStatus | null> {
    const opened = this.requireProject()
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

  decode(input: {
    imageId: number
    points: { x: number; y: number; label: 0 | 1 }[]
    box?: { x0: number; y0: number; x1: number; y1: number } | null
    candidate?: number
    reprompt?: number
  }): Promise<DecodeResult> {
    const next = this.decoding.then(() => this.doDecode(input))
    this.decoding = next.catch(() => {})
    return next
  }

  private async doDecode(input: Parameters<AppSession['decode']>[0]): Promise<DecodeResult> {
    const { file, opened } = this.segmentableImage(input.imageId)
    const [engine, scheduler] = await Promise.all([this.options.engine, opened.embeddings])
    const t0 = performance.now()
    const { embedding, source } = await scheduler.get({ file, id: input.imageId })
    const t1 = performance.now()
    if (this.open !== opened) throw new UserError('cancelled', 'the project was closed during the decode')
    const from = input.reprompt ?? null
    if (this.prompt === null || this.prompt.imageId !== input.imageId || (from !== null && this.prompt.reprompt !== from)) {
      let saved
      if (from !== null) {
        const annotation = opened.project.getAnnotation(from)
        if (annotation.imageId !== input.imageId) {
          throw new UserError('bad-argument', `annotation ${from} belongs to image ${annotation.imageId}, not ${input.imageId}`)
        }
        saved = annotation.segmentation
      }
      this.prompt = { imageId: input.imageId, session: engine.prompt(embedding, saved), reprompt: from }
    }
    const state = await this.prompt.session.decode({ points: input.points, box: input.box ?? null }, input.candidate)
    const t2 = performance.now()
    const geometry = engine.shapeOf(state, embedding.width, embedding.height)
    const t3 = performance.now()
    return {
      imageId: input.imageId,
      width: embedding.width,
      height: embedding.height,
      candidate: state.chosen,
      score: state.scores[state.chosen],
      scores: state.scores,
      parts: geometry.shape.parts,
      segmentation: geometry.segmentation,
      bbox: geometry.bbox,
      area: geometry.area,
      hasHoles: geometry.hasHoles,
      restored: state.restored,
      embedding: source,
      timings: { embedding: t1 - t0, decode: t2 - t1, postprocess: t3 - t2 },
    }
  }

  resetPrompt(): null {
    this.prompt?.session.reset()
    this.prompt = null
    return null
  }

  /** The model id recorded on annotations made with a prompt; null when the model failed to load. */
  async activeModelId(): Promise<string | null> {
    return (await this.options.engine.catch(() => null))?.info.id ?? null
  }

  // --- export and import ----------------------------------------------------------------------

  async exportCoco(segmentation: 'auto' | 'polygon' | 'rle' | undefined): Promise<ExportSummary | null> {
    const { project } = this.requireProject()
    const file = await this.options.dialogs.chooseSaveFile({
      title: 'Export COCO annotations',
      defaultPath: `${basename(project.folder)}.coco.json`,
      filters: COCO_FILTERS,
    })
    if (file === null) return null
    const result = await exportCoco(project, file, {
      segmentation,
      onProgress: (done, total) => this.options.emit('progress', { task: 'export-coco', done, total }),
    })
    const skipped = result.skippedAnnotations
    return {
      file: result.file,
      images: result.images,
      categories: result.categories,
      annotations: result.annotations,
      skippedImages: result.skippedImages,
      skippedImagePaths: result.skippedImagePaths,
      skippedAnnotations: skipped.onSkippedImages + skipped.empty + skipped.sizeMismatch + skipped.unknownCategory,
      durationMs: result.durationMs,
    }
  }

  async exportYolo(): Promise<ExportSummary | null> {
    const { project } = this.requireProject()
    const dir = await this.options.dialogs.chooseFolder({ title: 'Export YOLO dataset into a folder' })
    if (dir === null) return null
    const result = await exportYolo(project, dir, {
      imagesFolder: project.folder,
      onProgress: (done, total) => this.options.emit('progress', { task: 'export-yolo', done, total }),
    })
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
    const { project } = this.requireProject()
    const file = await this.options.dialogs.chooseOpenFile({ title: 'Import COCO annotations', filters: COCO_FILTERS })
    if (file === null) return null
    const result = await importCoco(project, file, {
      onProgress: (done, total) => this.options.emit('progress', { task: 'import-coco', done, total }),
    })
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
