// The project the app has open: opening (from the dialog, the recent list or the command line),
// rescanning, closing, the recent list, and what belongs to one open of a project (its token in
// image URLs, its embedding scheduler, its background header reading). The other services ask
// it for the open project and refuse with 'no-project' when there is none.
import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { CancelledError, UserError } from '../core/errors.ts'
import { openProjectEmbeddings, type EmbeddingScheduler, type SchedulerEvent } from '../core/embeddings/index.ts'
import { Project, type ScanSummary } from '../core/project/index.ts'
import type { ProjectSummary, RecentProject } from '../../src-preload/contract/project.ts'
import type { Dialogs, EventSink } from './boundaries.ts'
import type { ModelService } from './model-service.ts'
import { RecentProjects } from './recent-projects.ts'

export interface ProjectServiceOptions {
  model: ModelService
  /** Where the recent list lives (the app's user-data folder). */
  userDataDir: string
  dialogs: Dialogs
  emit: EventSink
  /** Root for projects of read-only folders; default: the one the CLI uses too. */
  projectUserDataDir?: string
  /** Neighbours prefetched on each side of the current image. */
  prefetch?: number
}

/** One open of a project. */
export interface OpenProject {
  project: Project
  /** Names this open in image URLs (see imageUrl): unique per open, never reused. */
  token: string
  embeddings: Promise<EmbeddingScheduler>
  headers: AbortController
  /** Aborted when the project starts to close: long work on it (an import) stops early. */
  closing: AbortController
  /** Work on the project that closing waits for, so its database is never closed under it. */
  work: Set<Promise<unknown>>
  scan: ScanSummary | null
  stopEvents: (() => void) | null
}

export function noProject(): UserError {
  return new UserError('no-project', 'no project is open: open an image folder first')
}

export class ProjectService {
  readonly recent: RecentProjects
  private open: OpenProject | null = null
  /** Projects opened so far (part of each open's token). */
  private opens = 0
  /** Serialises opening and closing: a second open waits for the first. */
  private switching: Promise<unknown> = Promise.resolve()
  /** Run before a project closes (the segment service forgets its prompt and lets a decode finish). */
  private readonly closing: (() => Promise<void>)[] = []

  constructor(private readonly options: ProjectServiceOptions) {
    this.recent = new RecentProjects(options.userDataDir)
  }

  /** The open project's store, or null. */
  get project(): Project | null {
    return this.open?.project ?? null
  }

  /** The open project, or null (for callers that must never throw, like the image protocol). */
  get opened(): OpenProject | null {
    return this.open
  }

  /** The open project; a 'no-project' UserError when none is. */
  require(): OpenProject {
    if (this.open === null) throw noProject()
    return this.open
  }

  /**
   * Runs `work` on the open project (an export, an import, a rescan): closing the project aborts
   * `signal` and waits for the work to end before the database closes. Without this, a close
   * during an import failed it with the store's internal "connection is not open".
   */
  async during<T>(
    work: (opened: OpenProject, signal: AbortSignal) => Promise<T>,
    opened: OpenProject = this.require(),
  ): Promise<T> {
    // `opened` was current when the caller began (before a dialog, say): another may be now.
    if (this.open !== opened || opened.closing.signal.aborted)
      throw new CancelledError('the project was closed meanwhile')
    const running = work(opened, opened.closing.signal)
    opened.work.add(running)
    try {
      return await running
    } finally {
      opened.work.delete(running)
    }
  }

  /** `task` runs (and is awaited) each time a project is about to close. */
  onClosing(task: () => Promise<void>): void {
    this.closing.push(task)
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
    const project = Project.open(folder, { userDataDir: this.options.projectUserDataDir, lockWait: 'async' })
    let scan: ScanSummary
    try {
      scan = await project.scan({
        onProgress: (done, total) => this.options.emit('progress', { task: 'scan', done, total }),
      })
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
      closing: new AbortController(),
      work: new Set(),
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
      if (this.open === opened)
        console.error(`[project] reading image headers of ${opened.project.folder} failed:`, err)
    }
  }

  private async startEmbeddings(project: Project): Promise<EmbeddingScheduler> {
    const engine = await this.options.model.engine
    const scheduler = await openProjectEmbeddings(engine, project, { prefetch: this.options.prefetch })
    const current = this.open
    if (current?.project !== project) {
      await scheduler.close()
      throw new CancelledError('the project was closed while its embedding cache opened')
    }
    current.stopEvents = scheduler.on((event) => this.forwardSchedulerEvent(event))
    this.orderEmbeddings(project, scheduler)
    return scheduler
  }

  /** Prefetch follows the project's image order, missing files left out. */
  private orderEmbeddings(project: Project, scheduler: EmbeddingScheduler): void {
    scheduler.setOrder(
      project.listImages({ missing: false }).map((row) => ({ file: project.absolutePath(row), id: row.id })),
    )
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
      this.options.emit('queue', {
        queued: event.queued,
        running: event.running,
        currentImageId: event.current?.id ?? null,
      })
    } else if (event.event.type !== 'evicted') {
      // A cache entry that was damaged, disagreed with its image, or is not an entry file (the
      // disk cache reports each once): the image is encoded again, so a log line is enough.
      const why = 'reason' in event.event ? event.event.reason : event.event.error.message
      console.warn(`[embeddings] ${event.event.file}: ${why}`)
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
    const opened = this.require()
    await this.during(async () => {
      opened.scan = await opened.project.scan({
        onProgress: (done, total) => this.options.emit('progress', { task: 'scan', done, total }),
      })
    })
    void this.readHeaders(opened)
    const scheduler = await opened.embeddings.catch(() => null)
    if (scheduler !== null) this.orderEmbeddings(opened.project, scheduler)
    return this.summary(opened)
  }

  close(): Promise<null> {
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
    opened.headers.abort()
    opened.closing.abort()
    await Promise.allSettled([...opened.work])
    const scheduler = await opened.embeddings.catch(() => null)
    opened.stopEvents?.()
    await scheduler?.close()
    for (const task of this.closing) await task()
    opened.project.close()
  }
}
