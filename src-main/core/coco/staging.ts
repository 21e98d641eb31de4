// Names the exporters own in an output folder, and the all-or-nothing swap of a YOLO dataset.
//
// Everything an export creates before it is finished carries the prefix `.sam-annotator-`, the
// host (a short hash of its name) and the process id: `.sam-annotator-tmp-<host>-<pid>-<rand>`
// for a temporary file (COCO), `.sam-annotator-staging-<host>-<pid>-<rand>` for a staging
// folder (YOLO). The names are short whatever the target's name, so a 255-byte file name still
// fits. A later export removes such a leftover from its output folder (only there, only direct
// children, only names of that shape) once its process is gone: the pid is not alive on this
// host, or is this very process (which never leaves one behind while it runs), or, for a name
// from another host (a shared network folder), it is more than a day old. Temp files of older
// versions (`.<name>.<pid>.<8 hex>.tmp`) are removed too when their pid is gone and they are an
// hour old.
//
// The YOLO swap. The dataset is written whole into a staging folder inside the output folder
// (same file system, so renames are atomic), then swapped in under a lock file
// (`.sam-annotator-export.lock`, one swap per output folder at a time):
//
//   1. a journal (the entries to swap, and the user files to carry over) is written and fsynced;
//   2. files in the old labels/ or images/ that no export wrote (not in the previous export's
//      manifest, `.sam-annotator-export.json`) and that the new export does not replace are
//      moved into the staged tree, so they are kept;
//   3. for each entry (labels, images, data.yaml, the manifest): the old one is renamed into
//      `<staging>/old/`, the new one renamed into place;
//   4. the journal is deleted: the commit point. The staging folder, now holding only the
//      previous export's own files, is removed.
//
// A failure in 1-3 rolls back in reverse (old entries renamed back, carried files moved back)
// and removes the staging folder, so the previous export is exactly as it was. A process killed
// in 1-3 leaves the staging folder with its journal; the next export to that folder finds it
// dead and rolls it back the same way before it starts. Files the previous export wrote but the
// new one does not (labels of images no longer in the project) go with the old entries: no stale
// label survives a successful export.
//
// Limits: label files are not fsynced one by one (thousands of fsyncs cost seconds), only the
// journal, data.yaml, the manifest and the folders, so after a power cut right after a swap a
// label may read empty; a journal that parses but names anything besides the dataset's own
// entries is left alone with its folder; two exports that find the same dead lock at the same
// instant may both take it (the window is one unlink and one create).

import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { UserError } from '../errors.ts'

const PREFIX = '.sam-annotator-'
const TEMP = `${PREFIX}tmp-`
const STAGING = `${PREFIX}staging-`
/** The previous export's own files, relative to the output folder ('/'-separated). */
export const MANIFEST = `${PREFIX}export.json`
const LOCK = `${PREFIX}export.lock`
const JOURNAL = 'journal.json'
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8)
const OWNED = /^\.sam-annotator-(tmp|staging)-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}$/
const LEGACY_TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/
const FOREIGN_STALE_MS = 24 * 3600_000
const LEGACY_STALE_MS = 3600_000
/** How long an export waits for another one's swap into the same folder. */
const LOCK_WAIT_MS = 60_000

function ownedName(prefix: string): string {
  return `${prefix}${HOST}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** A temporary file name beside `target`, short whatever the length of `target`'s name. */
export function tempPathFor(target: string): string {
  return join(dirname(target), ownedName(TEMP))
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return false // this process never leaves a leftover while it runs
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // alive, someone else's
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}

/** What a leftover name in an output folder is, when it is dead; null for a name that is not ours or may still be in use. */
function deadLeftover(name: string, stat: Stats): 'tmp' | 'staging' | null {
  const owned = OWNED.exec(name)
  if (owned) {
    const [, kind, host, pid] = owned
    const dead = host === HOST ? !pidAlive(Number(pid)) : Date.now() - stat.mtimeMs > FOREIGN_STALE_MS
    return dead ? (kind as 'tmp' | 'staging') : null
  }
  const legacy = LEGACY_TEMP.exec(name)
  if (legacy && stat.isFile() && !pidAlive(Number(legacy[1])) && Date.now() - stat.mtimeMs > LEGACY_STALE_MS)
    return 'tmp'
  return null
}

/** Removes dead temporary files (not staging folders: those need the lock, see StagedFolder) directly in `dir`. */
export function removeDeadTempFiles(dir: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return // nothing to clean, or not readable: the export itself will report the folder
  }
  for (const name of names) {
    const path = join(dir, name)
    const stat = lstatOrNull(path)
    if (stat?.isFile() && deadLeftover(name, stat) === 'tmp') rmSync(path, { force: true })
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms))
}

function writeDurable(path: string, text: string, flags = 'wx'): void {
  const fd = openSync(path, flags)
  try {
    writeFileSync(fd, text, 'utf8') // loops until all is written, unlike one writeSync
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** fsync a folder so renames in it are durable. Not supported everywhere (Windows): best effort. */
export function syncFolder(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Folders cannot be opened for fsync on some platforms; the renames are still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Holds `<root>/.sam-annotator-export.lock` while `work` runs (synchronously, so two exports in
 * this process never interleave inside it). A lock whose process is gone is taken over.
 */
async function withLock<T>(root: string, work: () => T): Promise<T> {
  const lock = join(root, LOCK)
  const started = Date.now()
  for (;;) {
    try {
      writeDurable(lock, `${HOST} ${process.pid}\n`)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let stale: boolean
    try {
      const [host, pid] = readFileSync(lock, 'utf8').trim().split(' ')
      const age = Date.now() - lstatSync(lock).mtimeMs
      stale = host === HOST ? !pidAlive(Number(pid)) : age > FOREIGN_STALE_MS
    } catch {
      continue // released meanwhile
    }
    if (stale) {
      rmSync(lock, { force: true })
      continue
    }
    if (Date.now() - started > LOCK_WAIT_MS)
      throw new UserError(
        'write-folder',
        `${root}: another export is writing this folder (${lock}); try again when it has finished`,
      )
    await sleep(100)
  }
  try {
    return work()
  } finally {
    rmSync(lock, { force: true })
  }
}

interface Journal {
  /** Top-level names swapped, in order, and whether each had a previous version. */
  entries: { name: string; hadOld: boolean }[]
  /** Files and folders (relative to the output folder) carried from the old tree into the new one. */
  kept: string[]
}

/** Puts everything a journal's swap moved back where it was (each step checks, so a half-done swap rolls back too). */
function rollBack(root: string, staging: string, journal: Journal): void {
  for (const { name, hadOld } of [...journal.entries].reverse()) {
    const current = join(root, name)
    const staged = join(staging, name)
    const old = join(staging, 'old', name)
    if (lstatOrNull(old)) {
      if (lstatOrNull(current)) renameSync(current, staged)
      renameSync(old, current)
    } else if (!hadOld && lstatOrNull(current) && !lstatOrNull(staged)) {
      renameSync(current, staged)
    }
  }
  for (const rel of [...journal.kept].reverse()) {
    const from = join(staging, ...rel.split('/'))
    const to = join(root, ...rel.split('/'))
    if (lstatOrNull(from) && !lstatOrNull(to)) {
      mkdirSync(dirname(to), { recursive: true })
      renameSync(from, to)
    }
  }
  syncFolder(root)
}

const SWAPPED = new Set(['labels', 'images', 'data.yaml', MANIFEST])

/**
 * A journal read back from disk, or null when it is not one this module wrote: a rollback only
 * ever renames the dataset's own entries and paths inside labels/ and images/.
 */
function checkedJournal(value: unknown): Journal | null {
  const j = value as Partial<Journal> | null
  if (!j || !Array.isArray(j.entries) || !Array.isArray(j.kept)) return null
  const entriesOk = j.entries.every((e) => SWAPPED.has(e?.name) && typeof e.hadOld === 'boolean')
  const keptOk = j.kept.every(
    (rel) =>
      typeof rel === 'string' &&
      /^(labels|images)\//.test(rel) &&
      !rel.split('/').some((part) => part === '' || part === '.' || part === '..'),
  )
  return entriesOk && keptOk ? (j as Journal) : null
}

/** Rolls back and removes dead staging folders and removes dead temp files directly in `root`. Call under the lock. */
function recoverLeftovers(root: string): void {
  for (const name of readdirSync(root)) {
    const path = join(root, name)
    const stat = lstatOrNull(path)
    if (!stat) continue
    const kind = deadLeftover(name, stat)
    if (kind === 'tmp' && stat.isFile()) rmSync(path, { force: true })
    if (kind === 'staging' && stat.isDirectory()) {
      let text: string | null
      try {
        text = readFileSync(join(path, JOURNAL), 'utf8')
      } catch {
        text = null // no journal: killed before its swap began, or after it committed
      }
      let parsed: unknown
      try {
        parsed = text === null ? null : JSON.parse(text)
      } catch {
        parsed = null // cut short while being written, before anything was moved
      }
      if (parsed !== null) {
        const journal = checkedJournal(parsed)
        if (!journal) continue // not a journal this module wrote: leave the folder alone
        rollBack(root, path, journal)
      }
      rmSync(path, { recursive: true, force: true })
    }
  }
}

function readManifest(root: string): Set<string> {
  try {
    const parsed = JSON.parse(readFileSync(join(root, MANIFEST), 'utf8')) as { files?: unknown }
    if (Array.isArray(parsed.files)) return new Set(parsed.files.filter((f): f is string => typeof f === 'string'))
  } catch {
    // No previous export by this version (or an unreadable manifest): nothing counts as ours.
  }
  return new Set()
}

/**
 * A staging folder inside the output folder. Write the new dataset under `path`, then `commit`
 * the top-level entries; `abort` removes it.
 */
export class StagedFolder {
  readonly root: string
  readonly path: string
  private done = false

  private constructor(root: string, path: string) {
    this.root = root
    this.path = path
  }

  /** Recovers what killed exports left in `root` (which must exist), then makes a fresh staging folder. */
  static async create(root: string): Promise<StagedFolder> {
    return withLock(root, () => {
      recoverLeftovers(root)
      const path = join(root, ownedName(STAGING))
      mkdirSync(path)
      return new StagedFolder(root, path)
    })
  }

  /**
   * Swaps the staged `entries` (top-level names under `path`) into the output folder. `files`:
   * every file the new export wrote, relative to the output folder, recorded as the new
   * manifest. Throws with the output folder as it was before, unless the rollback itself failed
   * (then the message says so and the next export finishes the rollback).
   */
  async commit(entries: string[], files: string[]): Promise<void> {
    await withLock(this.root, () => {
      const previous = readManifest(this.root)
      const previousFolders = new Set<string>()
      for (const file of previous)
        for (let i = file.indexOf('/'); i >= 0; i = file.indexOf('/', i + 1)) previousFolders.add(file.slice(0, i))
      writeDurable(join(this.path, MANIFEST), `${JSON.stringify({ version: 1, files })}\n`)
      const kept: string[] = []
      for (const name of entries) {
        if (lstatOrNull(join(this.root, name))?.isDirectory() && lstatOrNull(join(this.path, name))?.isDirectory())
          this.collectKept(name, previous, previousFolders, kept)
      }
      const journal: Journal = {
        entries: [...entries, MANIFEST].map((name) => ({ name, hadOld: lstatOrNull(join(this.root, name)) !== null })),
        kept,
      }
      writeDurable(join(this.path, JOURNAL), JSON.stringify(journal))
      syncFolder(this.path)
      let failedAt = ''
      try {
        for (const rel of kept) {
          failedAt = join(this.root, ...rel.split('/'))
          const to = join(this.path, ...rel.split('/'))
          mkdirSync(dirname(to), { recursive: true })
          renameSync(failedAt, to)
        }
        mkdirSync(join(this.path, 'old'))
        for (const { name, hadOld } of journal.entries) {
          failedAt = join(this.root, name)
          if (hadOld) renameSync(failedAt, join(this.path, 'old', name))
          renameSync(join(this.path, name), failedAt)
        }
        syncFolder(this.root)
        failedAt = join(this.path, JOURNAL)
        unlinkSync(failedAt)
      } catch (err) {
        try {
          rollBack(this.root, this.path, journal)
        } catch (undo) {
          this.done = true // the staging folder and its journal stay for the next export to roll back
          throw new UserError(
            'write-folder',
            `${failedAt}: the export failed part-way (${(err as Error).message}) and the previous export could not be fully restored (${(undo as Error).message}); run the export again to restore or replace it`,
            { cause: err },
          )
        }
        throw Object.assign(err as Error, { path: failedAt })
      }
    })
    this.done = true
    // The previous export's own files are all that is left in it. The export has committed, so
    // a failure here is not the user's concern: the next export removes the hidden leftover.
    try {
      rmSync(this.path, { recursive: true, force: true })
    } catch {
      // left for the next export
    }
  }

  /** Removes the staging folder (before any swap). Safe to call more than once. */
  abort(): void {
    if (this.done) return
    this.done = true
    rmSync(this.path, { recursive: true, force: true })
  }

  /**
   * Lists what under `<root>/<rel>` no export wrote and the new export does not replace, to be
   * carried into the staged tree. A folder holding nothing of the previous export goes whole.
   */
  private collectKept(rel: string, previous: Set<string>, previousFolders: Set<string>, kept: string[]): void {
    const oldDir = join(this.root, ...rel.split('/'))
    for (const name of readdirSync(oldDir)) {
      const r = `${rel}/${name}`
      const stat = lstatOrNull(join(oldDir, name))
      if (!stat) continue
      const staged = lstatOrNull(join(this.path, ...r.split('/')))
      if (stat.isDirectory() && staged?.isDirectory()) {
        this.collectKept(r, previous, previousFolders, kept)
      } else if (stat.isDirectory() && previousFolders.has(r)) {
        if (staged) throw conflict(join(this.root, ...r.split('/')), 'folder')
        this.collectKept(r, previous, previousFolders, kept)
      } else if (previous.has(r) || (deadLeftover(name, stat) === 'tmp' && stat.isFile())) {
        // The previous export's file (or an older version's dead temp file): replaced or dropped.
      } else if (staged === null) {
        kept.push(r)
      } else if (stat.isDirectory() || staged.isDirectory()) {
        throw conflict(join(this.root, ...r.split('/')), stat.isDirectory() ? 'folder' : 'file')
      }
      // else: a file at a path the new export writes; the export's file replaces it, as it always has.
    }
  }
}

function conflict(path: string, what: 'file' | 'folder'): UserError {
  return new UserError(
    'write-folder',
    `${path}: a ${what} the export did not write is where the export needs a ${what === 'file' ? 'folder' : 'file'}; move it away and export again (nothing was written)`,
  )
}
