// Embeddings on disk, in `<folder>/.sam-annotator/embeddings/` (or beside the project database
// when the folder is read-only), so reopening a project, or a folder shipped with its
// precomputed cache, does not run the encoder again.
//
// - One file per (image content, model, preprocessing): the name is a hash of the key, and the
//   header repeats the key, so a changed image or model is a different entry, never a stale hit.
// - Written to a temp file and renamed into place, so readers see a whole entry or none. No
//   fsync: a cache entry may be lost in a power cut, and the checksum catches one that comes
//   back damaged (deleted, recomputed, never served).
// - Bounded in total bytes; least recently used entries go first. The file's mtime is its
//   last use (touched on every hit), so the order survives restarts and is shared between the
//   app and a CLI working on the same folder. The bound is stored in config.json beside the
//   entries, so a cache precomputed under a larger bound is not cut down by the next app start.
// - Nothing found here is trusted (the folder may have been shipped from another machine; see
//   entry-file.ts on why the checksum is no signature): every lookup says what it knows about
//   the image and model, and an entry that disagrees is a miss, overwritten by the recompute.
// - Anything in an entry's place that is not a regular file (a folder, a symlink, a FIFO) is
//   skipped: never opened in a way that could block, never followed, never written over or
//   deleted (someone put it there), and reported once per cache object (one CLI run, one open
//   project); the image is then simply not cached on disk. A regular file that cannot be read
//   is reported the same way, and replaced like any other bad entry.

import { createHash, randomBytes } from 'node:crypto'
import { constants, mkdirSync, readFileSync, renameSync, writeFileSync, type Stats } from 'node:fs'
import { lstat, mkdir, open, readdir, rename, unlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UserError } from '../errors.ts'
import type { Embedding } from '../segment/prompt.ts'
import {
  CorruptEntryError,
  checkEntryHead,
  decodeEntry,
  encodeEntry,
  ENTRY_PREFIX_BYTES,
  MAX_HEADER_BYTES,
  maxEntryBytes,
  type EntryExpectation,
  type EntryKey,
  type StorageType,
} from './entry-file.ts'

export const DEFAULT_DISK_BYTES = 2 * 1024 ** 3
export const ENTRY_SUFFIX = '.emb'
const CONFIG_FILE = 'config.json'
/** Temp files older than this are left over from a crash, not a write in progress. */
const STALE_TEMP_MS = 60 * 60 * 1000

export interface DiskCacheOptions {
  /** Total bytes allowed; default: the bound saved in the cache's config.json, else 2 GiB. */
  maxBytes?: number
  /** How new entries are stored; default float16 (half the size, see float16.ts). */
  dtype?: StorageType
}

export interface DiskEntry {
  name: string
  bytes: number
  /** Last use, ms since the epoch. */
  usedMs: number
}

export type DiskCacheEvent =
  | { type: 'corrupt'; file: string; reason: string }
  | { type: 'evicted'; file: string; bytes: number }
  /** A sound entry that disagrees with what the lookup knows: a miss, overwritten by the recompute. */
  | { type: 'mismatch'; file: string; reason: string }
  /** Something in an entry's place that is not a readable regular file: left alone. */
  | { type: 'skipped'; file: string; reason: string }

/** An entry's place holds something that is not a readable regular file. */
class OddEntry extends Error {}

/** Why a path that is not a regular file cannot be an entry. */
function oddKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder'
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * Opens an entry for reading without following a symlink and without blocking on a FIFO (an
 * open of a FIFO for reading waits for a writer: it would hold a thread-pool thread forever).
 * Resolves null when there is no entry; throws OddEntry when the place holds something else.
 */
async function openEntry(file: string) {
  let handle
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (code === 'ELOOP') throw new OddEntry('a symbolic link, not an entry file: skipped')
    throw new OddEntry(`cannot be read (${code ?? (err as Error).message}): skipped`)
  }
  const st = await handle.stat()
  if (!st.isFile()) {
    await handle.close()
    throw new OddEntry(`${oddKind(st)}, not an entry file: skipped`)
  }
  return { handle, size: st.size }
}

/**
 * The whole file in one read call: fs.readFile reads in 512 KB pieces, each a round trip
 * through the thread pool, which costs tens of ms for an 8 MB entry on a busy machine.
 * Resolves null when there is no entry, or the entry's size when it is larger than `limit`
 * (not read: no entry of this model is that big).
 */
async function readWhole(file: string, scratch: Buffer | null, limit: number): Promise<Buffer | number | null> {
  const opened = await openEntry(file)
  if (!opened) return null
  const { handle, size } = opened
  try {
    if (size > limit) return size
    const buf = scratch && scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafeSlow(size)
    let done = 0
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, done)
      if (bytesRead === 0) return buf.subarray(0, done) // shrank while read: the size check catches it
      done += bytesRead
    }
    return buf
  } finally {
    await handle.close()
  }
}

export function entryName(key: EntryKey): string {
  return (
    createHash('sha256').update(`${key.contentHash}\n${key.modelKey}\n${key.preprocess}`).digest('hex').slice(0, 40) +
    ENTRY_SUFFIX
  )
}

function readConfiguredBound(dir: string): number | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as { maxBytes?: unknown }
    const n = parsed.maxBytes
    return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null
  } catch {
    return null
  }
}

export class DiskCache {
  readonly dir: string
  readonly dtype: StorageType
  private bound: number
  /** Entries by name, built by the first scan and kept up to date by this process. */
  private index: Map<string, DiskEntry> | null = null
  private readonly writes = new Map<string, Promise<boolean>>()
  private readonly listeners = new Set<(event: DiskCacheEvent) => void>()
  /**
   * Read buffer reused between reads (the decoded tensors never point into it): spares the
   * page faults and garbage of 8 MB per read. Taken by one read at a time; others allocate.
   */
  private scratch: Buffer | null = null
  /** Entries already reported as skipped or mismatched by this object: one line each. */
  private readonly reported = new Set<string>()

  constructor(dir: string, options: DiskCacheOptions = {}) {
    this.dir = dir
    this.dtype = options.dtype ?? 'float16'
    this.bound = options.maxBytes ?? readConfiguredBound(dir) ?? DEFAULT_DISK_BYTES
  }

  get maxBytes(): number {
    return this.bound
  }

  /** Changes the bound; `persist` saves it for every later user of this cache folder. */
  setMaxBytes(bytes: number, options: { persist?: boolean } = {}): void {
    if (!Number.isFinite(bytes) || bytes < 0)
      throw new UserError('invalid-value', `cache size ${bytes}: expected a number of bytes >= 0`)
    this.bound = bytes
    if (options.persist) {
      mkdirSync(this.dir, { recursive: true })
      const file = join(this.dir, CONFIG_FILE)
      const temp = `${file}.${process.pid}.tmp`
      writeFileSync(temp, JSON.stringify({ maxBytes: bytes }) + '\n')
      renameSync(temp, file)
    }
  }

  on(listener: (event: DiskCacheEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(event: DiskCacheEvent): void {
    for (const l of this.listeners) l(event)
  }

  /** Reports a skipped or mismatched entry, once per entry and kind for this object. */
  private reportOnce(event: Extract<DiskCacheEvent, { type: 'skipped' | 'mismatch' }>): void {
    const id = `${event.type}\n${event.file}`
    if (this.reported.has(id)) return
    this.reported.add(id)
    this.emit(event)
  }

  fileOf(key: EntryKey): string {
    return join(this.dir, entryName(key))
  }

  /**
   * The embedding stored for `key`, or null. `expected` is what the caller knows of the image
   * and model on its own; an entry that disagrees is a miss (reported, left for the recompute
   * to overwrite). A damaged entry is deleted and reported; something that is not an entry
   * file is skipped and reported.
   */
  async get(key: EntryKey, expected: EntryExpectation): Promise<Embedding | null> {
    const name = entryName(key)
    const file = join(this.dir, name)
    const scratch = this.scratch
    this.scratch = null
    let read: Buffer | number | null
    try {
      read = await readWhole(file, scratch, maxEntryBytes(expected))
    } catch (err) {
      this.scratch = scratch
      const reason = err instanceof OddEntry ? err.message : `cannot be read (${(err as Error).message}): skipped`
      this.reportOnce({ type: 'skipped', file, reason })
      return null
    }
    if (!Buffer.isBuffer(read)) {
      this.scratch = scratch
      if (read !== null)
        this.reportOnce({ type: 'mismatch', file, reason: `${read} bytes, larger than any entry of this model` })
      return null
    }
    const buf = read
    let decoded
    try {
      decoded = await decodeEntry(buf, key, expected)
    } catch (err) {
      if (!(err instanceof CorruptEntryError)) throw err
      this.keepScratch(buf)
      await unlink(file).catch(() => {})
      this.index?.delete(name)
      this.emit({ type: 'corrupt', file, reason: err.message })
      return null
    }
    this.keepScratch(buf)
    if (!decoded.ok) {
      this.reportOnce({ type: 'mismatch', file, reason: decoded.reason })
      return null
    }
    this.touch(name)
    return decoded.embedding
  }

  private keepScratch(buf: Buffer): void {
    if (buf.byteOffset !== 0) return
    const whole = Buffer.from(buf.buffer, 0, buf.buffer.byteLength)
    if (!this.scratch || whole.length > this.scratch.length) this.scratch = whole
  }

  /**
   * Whether a usable entry exists: a regular file whose header agrees with the lookup and
   * `expected` and whose size fits its header. Reads the header only, so the checksum is not
   * verified here (a damaged entry is caught when read). Anything else is a miss: a
   * mismatched or damaged entry is reported and left for the recompute to overwrite, an odd
   * one is skipped and reported.
   */
  async has(key: EntryKey, expected: EntryExpectation): Promise<boolean> {
    const file = this.fileOf(key)
    let opened
    try {
      opened = await openEntry(file)
    } catch (err) {
      if (err instanceof OddEntry) this.reportOnce({ type: 'skipped', file, reason: err.message })
      return false
    }
    if (!opened) return false
    const { handle, size } = opened
    try {
      if (size > maxEntryBytes(expected)) {
        this.reportOnce({ type: 'mismatch', file, reason: `${size} bytes, larger than any entry of this model` })
        return false
      }
      const head = Buffer.alloc(Math.min(size, ENTRY_PREFIX_BYTES + MAX_HEADER_BYTES))
      const { bytesRead } = await handle.read(head, 0, head.length, 0)
      const checked = checkEntryHead(head.subarray(0, bytesRead), size, key, expected)
      if (!checked.ok) this.reportOnce({ type: 'mismatch', file, reason: checked.reason })
      return checked.ok
    } catch (err) {
      if (err instanceof CorruptEntryError)
        this.reportOnce({ type: 'mismatch', file, reason: `damaged: ${err.message}` })
      else this.reportOnce({ type: 'skipped', file, reason: `cannot be read (${(err as Error).message}): skipped` })
      return false
    } finally {
      await handle.close()
    }
  }

  /** Marks an entry as just used, for the eviction order. */
  touch(nameOrKey: string | EntryKey): void {
    const name = typeof nameOrKey === 'string' ? nameOrKey : entryName(nameOrKey)
    const now = Date.now()
    const known = this.index?.get(name)
    if (known) known.usedMs = now
    utimes(join(this.dir, name), now / 1000, now / 1000).catch(() => {})
  }

  /**
   * Stores an embedding. Resolves true once the entry is in place, false when it was not
   * written (larger than the whole bound, or its place holds something that is not an entry
   * file, which is reported and left alone). Rejects with a UserError naming the file when the
   * disk refuses the write; a concurrent put of the same key shares one write.
   */
  put(key: EntryKey, embedding: Embedding): Promise<boolean> {
    const name = entryName(key)
    const running = this.writes.get(name)
    if (running) return running
    const write = this.write(name, key, embedding).finally(() => this.writes.delete(name))
    this.writes.set(name, write)
    return write
  }

  /** Waits for every write started so far. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes.values()])
  }

  private async write(name: string, key: EntryKey, embedding: Embedding): Promise<boolean> {
    const buf = await encodeEntry(key, embedding, this.dtype)
    if (buf.length > this.bound) return false
    const file = join(this.dir, name)
    const temp = join(this.dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
    try {
      await mkdir(this.dir, { recursive: true })
      await writeFile(temp, buf, { flag: 'wx' })
      // rename replaces a symlink or FIFO silently and fails on a folder: check first, so
      // whatever someone put in the entry's place is left as it is.
      const there = await lstat(file).catch(() => null)
      if (there && !there.isFile()) {
        await unlink(temp).catch(() => {})
        this.reportOnce({ type: 'skipped', file, reason: `${oddKind(there)}, not an entry file: skipped` })
        return false
      }
      await rename(temp, file)
    } catch (err) {
      await unlink(temp).catch(() => {})
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EISDIR') {
        // A folder appeared in the entry's place after the check above.
        this.reportOnce({ type: 'skipped', file, reason: 'a folder, not an entry file: skipped' })
        return false
      }
      const why =
        code === 'ENOSPC'
          ? 'the disk is full'
          : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
            ? 'permission denied'
            : (err as Error).message
      throw new UserError('cache-write', `${file}: cannot write the embedding cache entry (${why})`, { cause: err })
    }
    const index = await this.entries()
    index.set(name, { name, bytes: buf.length, usedMs: Date.now() })
    await this.enforceBound(name)
    return true
  }

  /** Every entry with its size and last use (scans the folder the first time). */
  async entries(rescan = false): Promise<Map<string, DiskEntry>> {
    if (this.index && !rescan) return this.index
    const index = new Map<string, DiskEntry>()
    let names: string[] = []
    try {
      names = await readdir(this.dir)
    } catch {
      // no folder yet: an empty cache
    }
    const now = Date.now()
    await Promise.all(
      names.map(async (name) => {
        // lstat: a symlink is not followed, so neither counted at its target's size nor evicted.
        const st = await lstat(join(this.dir, name)).catch(() => null)
        if (!st) return
        const isEntry = name.endsWith(ENTRY_SUFFIX) && !name.startsWith('.')
        if (!st.isFile()) {
          if (isEntry)
            this.reportOnce({
              type: 'skipped',
              file: join(this.dir, name),
              reason: `${oddKind(st)}, not an entry file: skipped`,
            })
          return
        }
        if (isEntry) index.set(name, { name, bytes: st.size, usedMs: st.mtimeMs })
        else if (name.endsWith('.tmp') && now - st.mtimeMs > STALE_TEMP_MS)
          await unlink(join(this.dir, name)).catch(() => {})
      }),
    )
    this.index = index
    return index
  }

  async totalBytes(): Promise<number> {
    let total = 0
    for (const e of (await this.entries()).values()) total += e.bytes
    return total
  }

  /**
   * Whether `bytes` more fit without evicting an entry used at or after `protectSince` (ms):
   * how a batch precompute knows the bound is reached before it evicts its own work.
   */
  async canFit(bytes: number, protectSince: number): Promise<boolean> {
    let evictable = 0
    let total = 0
    for (const e of (await this.entries()).values()) {
      total += e.bytes
      if (e.usedMs < protectSince) evictable += e.bytes
    }
    return total - evictable + bytes <= this.bound
  }

  private async enforceBound(keep: string): Promise<void> {
    if ((await this.totalBytes()) <= this.bound) return
    // Another process may have written or used entries since our scan: ask the folder.
    const index = await this.entries(true)
    let total = 0
    for (const e of index.values()) total += e.bytes
    const oldestFirst = [...index.values()].filter((e) => e.name !== keep).sort((a, b) => a.usedMs - b.usedMs)
    for (const e of oldestFirst) {
      if (total <= this.bound) break
      const file = join(this.dir, e.name)
      try {
        await unlink(file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue
      }
      index.delete(e.name)
      total -= e.bytes
      this.emit({ type: 'evicted', file, bytes: e.bytes })
    }
  }
}
