// A project: an image folder plus its SQLite store. This is the one object the IPC services,
// the CLI and COCO export/import talk to. Every mutating call validates its input, runs as one
// IMMEDIATE transaction and has committed (fsynced, with synchronous=FULL) before its promise
// resolves.
//
// Writes are asynchronous because of the lock another process may hold (the CLI importing
// while the app is open): better-sqlite3 waits for a lock by blocking the thread, which in the
// app's main process froze every window for up to the whole busy timeout. Opened with
// lockWait 'async' (the default) SQLite blocks a few ms at most and the write retries on timers
// with backoff; 'blocking' (the CLI, which has no event loop to keep) lets SQLite wait.
//
// Opening never scans and never decodes images. `scan()` walks and stats the folder and
// reconciles rows (new, missing, returned, moved); `readPendingHeaders()` does the slow part
// (dimensions, fingerprints, errors) lazily, in batches, and can be cancelled.

import type { Database } from 'better-sqlite3'
import { basename, join } from 'node:path'
import { UserError } from '../errors.ts'
import { AnnotationsRepository } from './annotations-repo.ts'
import { CategoriesRepository } from './categories-repo.ts'
import {
  BUSY_TIMEOUT_MS,
  defaultUserDataDir,
  isBusyError,
  locateDatabase,
  openDatabase,
  resolveFolder,
  SHORT_BUSY_TIMEOUT_MS,
  sqliteFailure,
  type Synchronous,
} from './database.ts'
import {
  findImageFiles,
  mapLimit,
  naturalCompare,
  readHeader,
  sampleFile,
  slicer,
  sortYielding,
  type FoundFile,
} from './image-files.ts'
import { ImportRepository } from './import-repo.ts'
import {
  ImagesRepository,
  type ImageFilter,
  type PendingImage,
  type StoredHeader,
  type StoredImage,
} from './images-repo.ts'
import { readMeta } from './meta-repo.ts'
import type {
  StoredAnnotation,
  AnnotationGeometry,
  AnnotationInput,
  AnnotationPatch,
  Category,
  ProjectImage,
  ImageStatus,
  ProjectCounts,
  ScanSummary,
} from './types.ts'
import {
  checkAnnotationInput,
  checkColor,
  checkId,
  checkName,
  checkOptionalText,
  checkStatus,
  nameKey,
} from './validate.ts'

export interface OpenOptions {
  /** Root for projects of read-only folders; default $XDG_DATA_HOME/sam-annotator or ~/.local/share/sam-annotator. */
  userDataDir?: string
  /** FULL (default) fsyncs every commit. NORMAL exists for the bench that measures the difference. */
  synchronous?: Synchronous
  /**
   * How a write waits for another process's write lock: 'async' (default) on timers, the event
   * loop running meanwhile (the app's main process); 'blocking' inside SQLite (the CLI).
   */
  lockWait?: 'async' | 'blocking'
  /** The longest a write waits for that lock before 'project-busy' (default BUSY_TIMEOUT_MS). */
  lockWaitMs?: number
}

/**
 * The store's writes inside one transaction (Project.transaction): synchronous, committed
 * together or not at all.
 */
export interface ProjectTransaction {
  createCategory(input: { name: string; color?: string; supercategory?: string | null }): Category
  /** The category with this name (ignoring case), created when absent. */
  ensureCategory(name: string): Category
  saveAnnotation(input: AnnotationInput): StoredAnnotation
}

/**
 * One import, staged before it is written (see Project.stageImport). Adding checks each value
 * at once and writes nothing to the project; `commit` writes everything in one transaction.
 */
export interface ImportStage {
  /**
   * A category the import needs, created at commit unless the project has one of that name
   * (ignoring case) then. Returns the number annotations refer to it by: the same for the same
   * name.
   */
  addCategory(input: { name: string; supercategory?: string | null }): number
  /** An annotation to save at commit; `categoryId` is a number addCategory returned. */
  addAnnotation(input: AnnotationInput): void
  /** Writes every staged category and annotation in one transaction, then discards the stage. */
  commit(): Promise<{ categoriesCreated: string[]; imported: number }>
  /** Drops what was staged, writing nothing. Safe to call more than once, and after commit. */
  discard(): void
}

/** Annotations an import stage writes into its TEMP table at a time. */
const STAGE_BATCH = 500

/** Rows a scan reads, inserts or renumbers per step (between steps the event loop runs). */
const SCAN_BATCH = 1000

/** First pause between attempts at a busy write, doubled each time up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 2
const MAX_PAUSE_MS = 50

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms))
}

export interface ReadHeadersOptions {
  onProgress?: (done: number, total: number) => void
  signal?: AbortSignal
  /** Files read at once (sharp reads headers on libuv's thread pool). */
  concurrency?: number
}

/** Distinct colours for new categories, cycled in creation order (Tableau 10 plus 10 lighter). */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
]

const PATCH_KEYS = new Set(['imageId', 'categoryId', 'segmentation', 'bbox', 'area', 'score', 'prompt', 'modelId'])

/** What a scan decided, computed without touching the database. */
interface ScanPlan {
  inserts: { file: FoundFile; fingerprint: string | null }[]
  relinks: { id: number; file: FoundFile; fingerprint: string | null }[]
  markMissing: number[]
  returned: StoredImage[]
  changed: { image: StoredImage; file: FoundFile }[]
}

/**
 * Reconciles stored rows with the files on disk. A vanished row is re-linked to a new file
 * with the same fingerprint (preferring the same file name, for duplicates); a vanished row
 * whose header was never read has no fingerprint, and is re-linked only to the single new
 * file with exactly its size and modification time (a rename or move keeps both).
 */
async function planScan(
  stored: StoredImage[],
  found: FoundFile[],
  fingerprints: ReadonlyMap<string, string>,
  pause: () => Promise<void>,
): Promise<ScanPlan> {
  const byPath = new Map<string, StoredImage>()
  for (let i = 0; i < stored.length; i++) {
    byPath.set(stored[i].path, stored[i])
    if ((i & 4095) === 0) await pause()
  }
  const foundPaths = new Set<string>()
  const plan: ScanPlan = { inserts: [], relinks: [], markMissing: [], returned: [], changed: [] }
  const fresh: FoundFile[] = []
  for (let i = 0; i < found.length; i++) {
    if ((i & 4095) === 0) await pause()
    const file = found[i]
    foundPaths.add(file.path)
    const image = byPath.get(file.path)
    if (!image) fresh.push(file)
    else {
      if (image.missing) plan.returned.push(image)
      if (image.size !== file.size || image.mtimeMs !== file.mtimeMs) plan.changed.push({ image, file })
    }
  }
  const vanished = stored.filter((s) => !foundPaths.has(s.path))
  const taken = new Set<string>()
  const unmatched: StoredImage[] = []
  if (fresh.length > 0) {
    const byFingerprint = new Map<string, FoundFile[]>()
    for (const file of fresh) {
      const fp = fingerprints.get(file.path)
      if (fp) byFingerprint.set(fp, [...(byFingerprint.get(fp) ?? []), file])
    }
    for (const image of vanished) {
      const candidates =
        (image.fingerprint ? byFingerprint.get(image.fingerprint) : undefined)?.filter((f) => !taken.has(f.path)) ?? []
      const name = basename(image.path)
      const pick = candidates.find((f) => basename(f.path) === name) ?? candidates[0]
      if (pick) {
        taken.add(pick.path)
        plan.relinks.push({ id: image.id, file: pick, fingerprint: fingerprints.get(pick.path) ?? null })
      } else unmatched.push(image)
    }
    const stillMissing: StoredImage[] = []
    for (const image of unmatched) {
      const same = (f: { size: number; mtimeMs: number }) => f.size === image.size && f.mtimeMs === image.mtimeMs
      const candidates = image.fingerprint ? [] : fresh.filter((f) => !taken.has(f.path) && same(f))
      if (candidates.length === 1 && unmatched.filter((u) => !u.fingerprint && same(u)).length === 1) {
        taken.add(candidates[0].path)
        plan.relinks.push({
          id: image.id,
          file: candidates[0],
          fingerprint: fingerprints.get(candidates[0].path) ?? null,
        })
      } else stillMissing.push(image)
    }
    unmatched.length = 0
    unmatched.push(...stillMissing)
  } else unmatched.push(...vanished)
  plan.markMissing = unmatched.filter((s) => !s.missing).map((s) => s.id)
  plan.inserts = fresh
    .filter((f) => !taken.has(f.path))
    .map((file) => ({ file, fingerprint: fingerprints.get(file.path) ?? null }))
  return plan
}

/** New files whose size matches a vanished row's: the files that might be moves, to fingerprint. */
async function movedSuspects(
  stored: StoredImage[],
  found: FoundFile[],
  pause: () => Promise<void>,
): Promise<FoundFile[]> {
  const foundPaths = new Set<string>()
  for (let i = 0; i < found.length; i++) {
    foundPaths.add(found[i].path)
    if ((i & 4095) === 0) await pause()
  }
  const knownPaths = new Set<string>()
  const vanishedSizes = new Set<number>()
  for (let i = 0; i < stored.length; i++) {
    knownPaths.add(stored[i].path)
    if (!foundPaths.has(stored[i].path)) vanishedSizes.add(stored[i].size)
    if ((i & 4095) === 0) await pause()
  }
  if (vanishedSizes.size === 0) return []
  return found.filter((f) => !knownPaths.has(f.path) && vanishedSizes.has(f.size))
}

/** Maps SQLite failures the user can act on to UserErrors naming the database file. */
function translateFailure(dbPath: string, err: unknown): unknown {
  return sqliteFailure(
    dbPath,
    err,
    (why) => new UserError('project-corrupt', `${dbPath}: the project database is damaged (${why})`, { cause: err }),
  )
}

export class Project {
  readonly folder: string
  readonly dbPath: string
  readonly location: 'folder' | 'user-data'
  /** Set when the project lives in user data: tells the user where, and why. */
  readonly notice: string | null
  /** The schema version the file had before this open (0 for a new project). */
  readonly migratedFrom: number

  private readonly db: Database
  private readonly images: ImagesRepository
  private readonly categories: CategoriesRepository
  private readonly annotations: AnnotationsRepository
  private readonly lockWait: 'async' | 'blocking'
  private readonly lockWaitMs: number
  /** The synchronous writes, run inside write(). */
  private readonly tx: ProjectTransaction

  private constructor(
    folder: string,
    dbPath: string,
    location: 'folder' | 'user-data',
    notice: string | null,
    db: Database,
    migratedFrom: number,
    lockWait: 'async' | 'blocking',
    lockWaitMs: number,
  ) {
    this.folder = folder
    this.dbPath = dbPath
    this.location = location
    this.notice = notice
    this.db = db
    this.migratedFrom = migratedFrom
    this.lockWait = lockWait
    this.lockWaitMs = lockWaitMs
    this.images = new ImagesRepository(db)
    this.categories = new CategoriesRepository(db)
    this.annotations = new AnnotationsRepository(db)
    this.tx = {
      createCategory: (input) => this.insertCategory(input),
      ensureCategory: (name) => {
        const checked = checkName('category', name)
        return this.categories.getByKey(nameKey(checked)) ?? this.insertCategory({ name: checked })
      },
      saveAnnotation: (input) => this.insertAnnotation(input),
    }
  }

  /** Creates or opens the project of `folder`. Does not scan: call scan() for that. */
  static open(folder: string, options: OpenOptions = {}): Project {
    const real = resolveFolder(folder)
    const where = locateDatabase(real, options.userDataDir ?? defaultUserDataDir())
    const lockWait = options.lockWait ?? 'async'
    const lockWaitMs = options.lockWaitMs ?? BUSY_TIMEOUT_MS
    if (!(lockWaitMs >= 0)) throw new UserError('invalid-value', `lock wait ${lockWaitMs} ms is not a duration`)
    const { db, migratedFrom } = openDatabase(
      where.dbPath,
      real,
      options.synchronous ?? 'FULL',
      lockWait === 'async' ? Math.min(SHORT_BUSY_TIMEOUT_MS, lockWaitMs) : lockWaitMs,
    )
    try {
      // The repositories prepare their statements here: the first place a schema changed under
      // us since openDatabase checked it would show.
      return new Project(real, where.dbPath, where.location, where.notice, db, migratedFrom, lockWait, lockWaitMs)
    } catch (err) {
      db.close()
      throw translateFailure(where.dbPath, err)
    }
  }

  /** Facts stored with the project: `folder` (the folder it was created for) and `created_at`. */
  meta(): Record<string, string> {
    return this.read(() => readMeta(this.db))
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  // --- plumbing ---------------------------------------------------------------------------

  private translate(err: unknown): unknown {
    return translateFailure(this.dbPath, err)
  }

  private read<T>(fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      throw this.translate(err)
    }
  }

  /**
   * One IMMEDIATE transaction: takes the write lock up front, so a concurrent writer waits
   * instead of failing mid-way. With lockWait 'async' a busy lock is tried again after a pause
   * (doubling, up to MAX_PAUSE_MS) until lockWaitMs have passed, then 'project-busy'; `fn` runs
   * again from the start each time (a busy BEGIN or COMMIT rolled everything back). The first
   * attempt runs before this returns, so writes keep the order of their calls.
   */
  private async write<T>(fn: () => T): Promise<T> {
    const deadline = performance.now() + this.lockWaitMs
    let pause = FIRST_PAUSE_MS
    for (;;) {
      try {
        return this.db.transaction(fn).immediate()
      } catch (err) {
        const left = deadline - performance.now()
        if (this.lockWait === 'blocking' || !isBusyError(err) || left <= 0 || this.db.inTransaction)
          throw this.translate(err)
        await sleep(Math.min(pause, left))
        pause = Math.min(pause * 2, MAX_PAUSE_MS)
        if (!this.db.open) throw this.translate(err) // closed while waiting
      }
    }
  }

  private requireImage(id: unknown): ProjectImage {
    const checked = checkId('image', id)
    const image = this.images.get(checked)
    if (!image) throw new UserError('image-unknown', `no image with id ${checked} in this project`)
    return image
  }

  private requireCategory(id: unknown): Category {
    const checked = checkId('category', id)
    const category = this.categories.get(checked)
    if (!category) throw new UserError('category-unknown', `no category with id ${checked} in this project`)
    return category
  }

  private requireAnnotation(id: unknown): StoredAnnotation {
    const checked = checkId('annotation', id)
    const annotation = this.annotations.get(checked)
    if (!annotation) throw new UserError('annotation-unknown', `no annotation with id ${checked} in this project`)
    return annotation
  }

  // --- images -------------------------------------------------------------------------------

  /**
   * Lists the folder and reconciles it with the store. Cheap: a walk and a stat per file;
   * fingerprints are computed here only for new files whose size matches a vanished row (the
   * files that might be moves). A folder that has not changed costs one read of the known rows
   * and no write at all. The work is sliced (the rows read a page at a time, sorting and writing
   * in batches) so the app's main process never stalls for long, even at 100,000 images. New
   * files are inserted in batches of SCAN_BATCH, each its own transaction: a scan cut short
   * leaves rows the next scan agrees with.
   */
  async scan(options: { onProgress?: (done: number, total: number) => void } = {}): Promise<ScanSummary> {
    const started = performance.now()
    const pause = slicer()
    const { files: found, skipped } = await findImageFiles(this.folder)
    options.onProgress?.(0, found.length)

    const snapshot: StoredImage[] = []
    for (let after = 0; ;) {
      const page = this.read(() => this.images.scanPage(after, SCAN_BATCH))
      for (const row of page) snapshot.push(row)
      if (page.length < SCAN_BATCH) break
      after = page[page.length - 1].id
      await pause()
    }
    await pause()
    const suspects = await movedSuspects(snapshot, found, pause)
    const fingerprints = new Map<string, string>()
    await mapLimit(suspects, 8, async (file) => {
      try {
        fingerprints.set(file.path, (await sampleFile(this.absolutePath(file))).fingerprint)
      } catch {
        // unreadable now: it is inserted as new and readPendingHeaders records why
      }
    })
    await pause()
    const plan = await planScan(snapshot, found, fingerprints, pause)
    const changes =
      plan.inserts.length + plan.relinks.length + plan.markMissing.length + plan.returned.length + plan.changed.length
    if (changes > 0) {
      // Planned outside the lock: each write is one that a concurrent scan cannot make wrong
      // (an insert or relink onto a path taken meanwhile is dropped by the store).
      const now = new Date().toISOString()
      await this.write(() => {
        for (const image of plan.returned) this.images.setMissing(image.id, false)
        for (const { image, file } of plan.changed) this.images.markChanged(image.id, file.size, file.mtimeMs)
        for (const r of plan.relinks)
          this.images.relink(r.id, {
            path: r.file.path,
            size: r.file.size,
            mtimeMs: r.file.mtimeMs,
            fingerprint: r.fingerprint,
          })
        for (const id of plan.markMissing) this.images.setMissing(id, true)
      })
      // Ids in natural order, as the first scan of a folder gives them.
      const inserts = await sortYielding(plan.inserts, (a, b) => naturalCompare(a.file.path, b.file.path))
      for (let i = 0; i < inserts.length; i += SCAN_BATCH) {
        await pause()
        await this.write(() => {
          for (const { file, fingerprint } of inserts.slice(i, i + SCAN_BATCH))
            this.images.insertIfNew({ ...file, fingerprint }, now)
        })
        options.onProgress?.(Math.min(i + SCAN_BATCH, inserts.length), found.length)
      }
      if (inserts.length > 0 || plan.relinks.length > 0) await this.renumber(pause)
    }
    options.onProgress?.(found.length, found.length)
    return {
      found: found.length,
      added: plan.inserts.length,
      missing: plan.markMissing.length,
      returned: plan.returned.length,
      relinked: plan.relinks.length,
      changed: plan.changed.length,
      pendingHeaders: this.read(() => this.images.countPending()),
      skipped,
      durationMs: performance.now() - started,
    }
  }

  /** Writes the natural order of paths as the display order; only positions that change are written. */
  private async renumber(pause: () => Promise<void>): Promise<void> {
    const rows: { id: number; path: string; sortIndex: number }[] = []
    for (let after = 0; ;) {
      const page = this.read(() => this.images.orderPage(after, SCAN_BATCH))
      for (const row of page) rows.push(row)
      if (page.length < SCAN_BATCH) break
      after = page[page.length - 1].id
      await pause()
    }
    await sortYielding(rows, (a, b) => naturalCompare(a.path, b.path))
    const moves: [number, number][] = []
    rows.forEach((row, index) => {
      if (row.sortIndex !== index) moves.push([row.id, index])
    })
    for (let i = 0; i < moves.length; i += SCAN_BATCH) {
      await pause()
      await this.write(() => {
        for (const [id, index] of moves.slice(i, i + SCAN_BATCH)) this.images.setSortIndex(id, index)
      })
    }
  }

  /**
   * Reads size, fingerprint and errors for every image whose header is not known yet, in
   * batches of 256 committed one transaction each (progress survives a crash; other writers
   * are never blocked for long). Returns how many images were read. Stops between batches
   * when `signal` aborts.
   */
  async readPendingHeaders(options: ReadHeadersOptions = {}): Promise<number> {
    const total = this.read(() => this.images.countPending())
    let done = 0
    let after = 0
    options.onProgress?.(0, total)
    while (!options.signal?.aborted) {
      const batch = this.read(() => this.images.pending(256, after))
      if (batch.length === 0) break
      after = batch[batch.length - 1].id
      const results = await mapLimit(batch, options.concurrency ?? 8, (image) => this.headerOf(image))
      await this.write(() => {
        for (const r of results) if (r) this.images.saveHeader(r.image, r.header)
      })
      done += batch.length
      options.onProgress?.(Math.min(done, total), total)
    }
    return done
  }

  /** One image's header from its file, or null when the file is gone (the next scan marks it missing). */
  private async headerOf(image: PendingImage): Promise<{ image: PendingImage; header: StoredHeader } | null> {
    const file = this.absolutePath(image)
    let sample
    try {
      sample = await sampleFile(file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return null
      return {
        image,
        header: {
          width: null,
          height: null,
          fingerprint: '',
          size: 0,
          error: `cannot read file (${code ?? (err as Error).message})`,
        },
      }
    }
    const header = await readHeader(file, sample)
    return { image, header: { ...header, fingerprint: sample.fingerprint, size: sample.size } }
  }

  /**
   * Reads this image's header now when it is still pending (the background read has not reached
   * it yet): a viewer asking for one image need not wait for the whole folder. Returns the row
   * as stored afterwards.
   */
  async readHeaderNow(id: number): Promise<ProjectImage> {
    const row = this.getImage(id)
    if (row.missing || row.width !== null || row.error !== null) return row
    const result = await this.headerOf({ id: row.id, path: row.path })
    if (result !== null) await this.write(() => this.images.saveHeader(result.image, result.header))
    return this.getImage(id)
  }

  /**
   * Images in list order. `after` (an image id) starts after that image: keyset paging, so
   * the last page of a large folder costs what the first does. `name` keeps images whose path
   * contains it, case-insensitively.
   */
  listImages(options: ImageFilter & { after?: number; limit?: number } = {}): ProjectImage[] {
    const filter = this.checkFilter(options)
    const limit = options.limit ?? -1
    if (!Number.isSafeInteger(limit) || limit < -1)
      throw new UserError('invalid-value', `limit ${limit} is not an integer >= 0`)
    return this.read(() => {
      const after = options.after === undefined ? undefined : this.requireImage(options.after).id
      return this.images.list({ ...filter, after, limit })
    })
  }

  /** How many images `listImages` would return with this filter and no limit. */
  countImages(options: ImageFilter = {}): number {
    const filter = this.checkFilter(options)
    return this.read(() => this.images.count(filter))
  }

  /** Images of each status in the whole project. */
  statusCounts(): Record<ImageStatus, number> {
    return this.read(() => this.images.statusCounts())
  }

  private checkFilter(options: ImageFilter): ImageFilter {
    const status = options.status === undefined ? undefined : checkStatus(options.status)
    if (options.name !== undefined && typeof options.name !== 'string')
      throw new UserError('invalid-value', `image name filter ${String(options.name)} is not text`)
    return { status, missing: options.missing, name: options.name }
  }

  getImage(id: number): ProjectImage {
    return this.read(() => this.requireImage(id))
  }

  /** Accepts '\\' separators too (paths typed on Windows). */
  imageByPath(relPath: string): ProjectImage | null {
    const normalized = relPath.replace(/\\/g, '/').replace(/^\.\//, '')
    return this.read(() => this.images.getByPath(normalized))
  }

  async setImageStatus(id: number, status: ImageStatus): Promise<void> {
    const checked = checkStatus(status)
    await this.write(() => {
      this.requireImage(id)
      this.images.setStatus(id, checked)
    })
  }

  absolutePath(image: { path: string }): string {
    return join(this.folder, ...image.path.split('/'))
  }

  // --- categories ---------------------------------------------------------------------------

  listCategories(): Category[] {
    return this.read(() => this.categories.list())
  }

  async createCategory(input: { name: string; color?: string; supercategory?: string | null }): Promise<Category> {
    return this.write(() => this.tx.createCategory(input))
  }

  private insertCategory(input: { name: string; color?: string; supercategory?: string | null }): Category {
    const name = checkName('category', input?.name)
    const color = input.color === undefined ? undefined : checkColor(input.color)
    const supercategory = checkOptionalText('supercategory', input.supercategory)
    const key = nameKey(name)
    const existing = this.categories.getByKey(key)
    if (existing)
      throw new UserError(
        'category-exists',
        `a category named "${existing.name}" already exists (names are compared ignoring case)`,
      )
    // A count, not a list: importing thousands of categories must not be quadratic.
    const chosen = color ?? PALETTE[this.categories.count() % PALETTE.length]
    return this.categories.get(this.categories.insert(name, key, chosen, supercategory)) as Category
  }

  /** The category with this name (ignoring case), created when absent: for CLI and COCO import. */
  async ensureCategory(name: string): Promise<Category> {
    return this.write(() => this.tx.ensureCategory(name))
  }

  async renameCategory(id: number, name: string): Promise<Category> {
    const checked = checkName('category', name)
    return this.write(() => {
      const category = this.requireCategory(id)
      const key = nameKey(checked)
      const clash = this.categories.getByKey(key)
      if (clash && clash.id !== category.id)
        throw new UserError(
          'category-exists',
          `a category named "${clash.name}" already exists (names are compared ignoring case)`,
        )
      this.categories.rename(category.id, checked, key)
      return this.categories.get(category.id) as Category
    })
  }

  async recolorCategory(id: number, color: string): Promise<Category> {
    const checked = checkColor(color)
    return this.write(() => {
      const category = this.requireCategory(id)
      this.categories.recolor(category.id, checked)
      return this.categories.get(category.id) as Category
    })
  }

  /** `ids` must list every category exactly once, in the new display order. */
  async reorderCategories(ids: number[]): Promise<Category[]> {
    if (!Array.isArray(ids)) throw new UserError('invalid-value', `category order ${String(ids)} is not a list of ids`)
    return this.write(() => {
      const current = this.categories.list()
      const known = new Set(current.map((c) => c.id))
      const seen = new Set<number>()
      for (const id of ids) {
        checkId('category', id)
        if (!known.has(id)) throw new UserError('category-unknown', `no category with id ${id} in this project`)
        if (seen.has(id)) throw new UserError('invalid-value', `category id ${id} appears twice in the new order`)
        seen.add(id)
      }
      const absent = current.filter((c) => !seen.has(c.id))
      if (absent.length > 0)
        throw new UserError(
          'invalid-value',
          `the new order leaves out categor${absent.length > 1 ? 'ies' : 'y'} ${absent.map((c) => `"${c.name}"`).join(', ')}`,
        )
      ids.forEach((id, order) => this.categories.setOrder(id, order))
      return this.categories.list()
    })
  }

  /** Refuses while annotations use the category, naming how many, unless `force` (which deletes them too). */
  async deleteCategory(id: number, options: { force?: boolean } = {}): Promise<void> {
    await this.write(() => {
      const category = this.requireCategory(id)
      const used = this.categories.usage(category.id)
      if (used > 0 && !options.force) {
        throw new UserError(
          'category-in-use',
          `category "${category.name}" is used by ${used} annotation${used === 1 ? '' : 's'}; delete or move them first, or force the deletion`,
        )
      }
      if (used > 0) {
        const touched = this.annotations.imagesOf(category.id)
        this.annotations.deleteByCategory(category.id)
        for (const imageId of touched) this.images.demoteIfEmpty(imageId)
      }
      this.categories.delete(category.id)
      this.categories.list().forEach((c, order) => {
        if (c.order !== order) this.categories.setOrder(c.id, order)
      })
    })
  }

  // --- annotations ----------------------------------------------------------------------------

  /** Checks ids exist and an RLE matches the image size when the size is known. */
  private checkReferences(input: AnnotationInput): void {
    this.requireCategory(input.categoryId)
    this.checkImageReference(this.requireImage(input.imageId), input)
  }

  private checkImageReference(image: ProjectImage, input: AnnotationInput): void {
    const seg = input.segmentation
    if (
      !Array.isArray(seg) &&
      image.width !== null &&
      image.height !== null &&
      (seg.size[0] !== image.height || seg.size[1] !== image.width)
    ) {
      throw new UserError(
        'annotation-segmentation',
        `segmentation RLE size [${seg.size.join(', ')}] does not match image ${image.path} ([height, width] = [${image.height}, ${image.width}])`,
      )
    }
  }

  async saveAnnotation(input: AnnotationInput): Promise<StoredAnnotation> {
    return this.write(() => this.tx.saveAnnotation(input))
  }

  private insertAnnotation(input: AnnotationInput): StoredAnnotation {
    const checked = checkAnnotationInput(input)
    this.checkReferences(checked)
    const id = this.annotations.insert(checked, new Date().toISOString())
    this.images.promoteToInProgress(checked.imageId)
    return this.annotations.get(id) as StoredAnnotation
  }

  async updateAnnotation(id: number, patch: AnnotationPatch): Promise<StoredAnnotation> {
    if (patch === null || typeof patch !== 'object')
      throw new UserError('annotation', `annotation change ${String(patch)} is not an object`)
    const unknown = Object.keys(patch).filter((k) => !PATCH_KEYS.has(k))
    if (unknown.length > 0)
      throw new UserError(
        'annotation',
        `annotation field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} cannot be changed`,
      )
    return this.write(() => {
      const existing = this.requireAnnotation(id)
      const merged = checkAnnotationInput({ ...existing, ...patch })
      this.checkReferences(merged)
      this.annotations.update(existing.id, merged, new Date().toISOString())
      if (merged.imageId !== existing.imageId) {
        this.images.promoteToInProgress(merged.imageId)
        this.images.demoteIfEmpty(existing.imageId)
      }
      return this.annotations.get(existing.id) as StoredAnnotation
    })
  }

  async deleteAnnotation(id: number): Promise<void> {
    await this.write(() => {
      const annotation = this.requireAnnotation(id)
      this.annotations.delete(annotation.id)
      this.images.demoteIfEmpty(annotation.imageId)
    })
  }

  getAnnotation(id: number): StoredAnnotation {
    return this.read(() => this.requireAnnotation(id))
  }

  listAnnotations(imageId: number): StoredAnnotation[] {
    return this.read(() => {
      this.requireImage(imageId)
      return this.annotations.listForImage(imageId)
    })
  }

  /**
   * Every annotation in id order, streamed a page at a time. Other calls may run between
   * items; an annotation saved meanwhile with a higher id is included. `pageSize` (rows read
   * per query, default 1000) is there for tests.
   */
  *iterateAnnotations(options: { pageSize?: number } = {}): IterableIterator<StoredAnnotation> {
    try {
      yield* this.annotations.iterate(options.pageSize)
    } catch (err) {
      throw this.translate(err)
    }
  }

  /** Every annotation's geometry in id order, streamed: what exports read. */
  *iterateAnnotationGeometry(options: { pageSize?: number } = {}): IterableIterator<AnnotationGeometry> {
    try {
      yield* this.annotations.iterateGeometry(options.pageSize)
    } catch (err) {
      throw this.translate(err)
    }
  }

  /** One image's annotation geometry in id order: what the YOLO export writes, an image at a time. */
  annotationGeometryOf(imageId: number): AnnotationGeometry[] {
    return this.read(() => this.annotations.geometryForImage(imageId))
  }

  /**
   * Runs `fn` as one transaction: the writes it makes through `tx` commit together or not at
   * all (the CLI's annotate: a save that fails takes the category it created with it). `fn` may
   * run more than once when the lock was busy, so it must do nothing but those writes.
   */
  async transaction<T>(fn: (tx: ProjectTransaction) => T): Promise<T> {
    return this.write(() => fn(this.tx))
  }

  /**
   * Starts an import that lands whole or not at all without holding the write lock (or the
   * thread) while it is prepared: staged rows wait in TEMP tables of this connection, and
   * commit() moves them into the project in one short transaction. Call discard() when not
   * committing (a failure, a cancel).
   */
  stageImport(): ImportStage {
    const repo = this.read(() => new ImportRepository(this.db))
    const positions = new Map<string, number>()
    const images = new Map<number, ProjectImage>()
    let annotations = 0
    let open = true
    // Rows go into the TEMP table a batch at a time, in one transaction each: one per row cost
    // SQLite a journalled commit of the temp file each, 100+ µs a row once it outgrew its cache.
    // A transaction that writes only TEMP tables takes no lock on the project file.
    const pending: AnnotationInput[] = []
    const flush = (): void => {
      if (pending.length === 0) return
      this.read(() => this.db.transaction(() => repo.addAnnotations(pending))())
      pending.length = 0
    }
    const discard = (): void => {
      pending.length = 0
      if (open && this.db.open) this.read(() => repo.drop())
      open = false
    }
    const requireOpen = (): void => {
      if (!open) throw new Error('this import stage was committed or discarded')
    }
    return {
      addCategory: (input) => {
        requireOpen()
        const name = checkName('category', input?.name)
        const supercategory = checkOptionalText('supercategory', input.supercategory)
        const key = nameKey(name)
        let position = positions.get(key)
        if (position === undefined) {
          position = positions.size + 1
          this.read(() => repo.addCategory(position as number, name, key, supercategory))
          positions.set(key, position)
        }
        return position
      },
      addAnnotation: (input) => {
        requireOpen()
        const checked = checkAnnotationInput(input)
        if (checked.categoryId > positions.size)
          throw new UserError('category-unknown', `category ${checked.categoryId} was not added to this import`)
        this.read(() => {
          let image = images.get(checked.imageId)
          if (!image) images.set(checked.imageId, (image = this.requireImage(checked.imageId)))
          this.checkImageReference(image, checked)
        })
        pending.push(checked)
        if (pending.length >= STAGE_BATCH) flush()
        annotations++
      },
      commit: async () => {
        requireOpen()
        try {
          flush()
          return await this.write(() => {
            const categoriesCreated = repo.missingCategories()
            repo.insertCategories(PALETTE)
            const imported = repo.insertAnnotations(new Date().toISOString())
            // Every staged row refers to a staged category, now present: a shortfall is a bug.
            if (imported !== annotations) throw new Error(`staged ${annotations} annotations but wrote ${imported}`)
            return { categoriesCreated, imported }
          })
        } finally {
          discard()
        }
      },
      discard,
    }
  }

  counts(): ProjectCounts {
    return this.read(() => ({
      ...this.images.counts(),
      annotations: this.annotations.count(),
      perCategory: this.annotations.perCategory(),
    }))
  }
}
