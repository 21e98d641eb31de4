// Keeps an export from destroying what it exports: before an exporter creates, renames over or
// unlinks a path, the guard says whether that path is one of the project's own files — an
// image, the database (with its -wal, -shm and -journal files), anything in the database's
// folder (`.sam-annotator/`, which also holds the embedding cache), the project folder itself.
//
// What matters is the directory entry, not the file behind it: a rename or an unlink replaces
// or removes the entry at the path. So a hard link or a symbolic link *at* the output path is
// harmless (replacing it leaves the image alone), while a path that reaches an image's own
// entry through symbolic-linked folders is not. Every path is therefore compared as
// `realpath(its folder) + its name`; for a folder not made yet, the nearest existing ancestor
// is resolved and the rest appended, since new folders cannot be links.
//
// Real folders are cached, so 100,000 images in a few folders cost a few realpath calls.

import { realpathSync } from 'node:fs'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { UserError } from '../errors.ts'

/** APFS and NTFS compare names without case by default: `A.JPG` there is `a.jpg`. */
const CASE_INSENSITIVE = process.platform === 'darwin' || process.platform === 'win32'
const DATABASE_SIBLINGS = ['-wal', '-shm', '-journal']

function key(path: string): string {
  return CASE_INSENSITIVE ? path.toLowerCase() : path
}

/** Resolves folders to their real paths, once per distinct folder. */
class RealFolders {
  private readonly cache = new Map<string, string>()

  /** realpath of `dir`; for one that does not exist (or cannot be read), its nearest resolvable ancestor's plus the rest. */
  of(dir: string): string {
    const hit = this.cache.get(dir)
    if (hit !== undefined) return hit
    let real: string
    try {
      real = realpathSync(dir)
    } catch {
      const parent = dirname(dir)
      real = parent === dir ? dir : join(this.of(parent), basename(dir))
    }
    this.cache.set(dir, real)
    return real
  }

  /** The entry `path` names: its folder resolved, its own name kept (a link at the path stays the link). */
  entry(path: string): string {
    const abs = resolve(path)
    const name = basename(abs)
    return name === '' ? this.of(abs) : join(this.of(dirname(abs)), name)
  }
}

export class WriteGuard {
  private readonly real = new RealFolders()
  private readonly folder: string
  private readonly folderKey: string
  private readonly dbPath: string | null
  /** Entry key -> what it is, for the database and its sibling files. */
  private readonly databaseFiles = new Map<string, string>()
  private readonly dataFolder: string | null
  private readonly dataFolderKey: string | null
  /** Entry key -> the image's relative path. */
  private readonly images = new Map<string, string>()

  /**
   * `images`: relative paths, '/'-separated, under `folder`. Pass the rows an exporter already
   * listed, so a large project is not listed twice.
   */
  constructor(facts: { folder: string; dbPath?: string; images: Iterable<{ path: string }> }) {
    this.folder = resolve(facts.folder)
    this.folderKey = key(this.real.of(this.folder))
    this.dbPath = facts.dbPath === undefined ? null : resolve(facts.dbPath)
    if (this.dbPath !== null) {
      this.dataFolder = this.real.of(dirname(this.dbPath))
      this.dataFolderKey = key(this.dataFolder)
      const entry = join(this.dataFolder, basename(this.dbPath))
      this.databaseFiles.set(key(entry), `is the project database (${this.dbPath})`)
      for (const suffix of DATABASE_SIBLINGS) {
        this.databaseFiles.set(key(entry + suffix), `is part of the project database (${this.dbPath}${suffix})`)
      }
    } else {
      this.dataFolder = null
      this.dataFolderKey = null
    }
    for (const image of facts.images) {
      const slash = image.path.lastIndexOf('/')
      const dir = slash < 0 ? this.folder : join(this.folder, ...image.path.slice(0, slash).split('/'))
      this.images.set(key(join(this.real.of(dir), image.path.slice(slash + 1))), image.path)
    }
  }

  /** What `target` would destroy, in words; null when writing there is safe. */
  protectedBy(target: string): string | null {
    const entry = key(this.real.entry(target))
    if (entry === this.folderKey) return `is the project folder ${this.folder}`
    const database = this.databaseFiles.get(entry)
    if (database !== undefined) return database
    if (this.dataFolderKey !== null) {
      if (entry === this.dataFolderKey) return `is the project's data folder ${this.dataFolder}`
      const prefix = this.dataFolderKey.endsWith(sep) ? this.dataFolderKey : this.dataFolderKey + sep
      if (entry.startsWith(prefix))
        return `is inside the project's data folder ${this.dataFolder} (database and embedding cache)`
    }
    const image = this.images.get(entry)
    if (image !== undefined) return `would replace the project image ${image}`
    return null
  }

  /** Throws a UserError naming `target` when it is protected; `choose` says what to pick instead. */
  check(target: string, choose: 'file' | 'folder'): void {
    const why = this.protectedBy(target)
    if (why !== null)
      throw new UserError('file-protected', `${resolve(target)}: ${why}; choose another output ${choose}`)
  }

  /** True when `dir` (links followed) is the image folder itself. */
  isImageFolder(dir: string): boolean {
    try {
      return key(realpathSync(dir)) === this.folderKey
    } catch {
      return false
    }
  }
}
