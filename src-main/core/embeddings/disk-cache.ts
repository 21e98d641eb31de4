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
// - Eviction works from an index in memory (each entry's size and last use, oldest first, and
//   the total), built by one scan of the folder on first need, in small batches so the event
//   loop keeps running, and kept up to date by this object's puts, hits and evictions: a write
//   over the bound costs the same with 100 entries or 20,000. Another process (a CLI `embed`
//   beside the app) may write, use or delete entries meanwhile, so the index is a hint: the
//   entry about to be evicted is stat'ed first (used since by someone else: kept, and counted
//   as recent; gone: dropped), and the folder is scanned again after as many writes as the
//   last scan found entries (at least 256: the scan's cost stays a constant per write), which
//   brings in the entries others wrote.
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
import { setImmediate } from 'node:timers/promises'
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
/** Entries stat'ed at once by a scan: small enough that the event loop is never held long. */
const SCAN_BATCH = 64
/** Entries linked into a new index between two turns of the event loop. */
const BUILD_BATCH = 2000
/** The folder is scanned again after this many writes at least (else: as many as it found). */
const RESCAN_MIN_WRITES = 256

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

/**
 * The entries this object knows, least recently used first (a doubly linked list over a map by
 * name), with their total size: every change and the oldest entry are O(1).
 */
class EntryIndex {
  private readonly nodes = new Map<string, IndexNode>()
  private head: IndexNode | null = null
  private tail: IndexNode | null = null
  bytes = 0

  get size(): number {
    return this.nodes.size
  }

  get(name: string): DiskEntry | undefined {
    return this.nodes.get(name)
  }

  /** Adds or replaces an entry, as the most recently used. */
  set(entry: DiskEntry): void {
    this.delete(entry.name)
    const node: IndexNode = { name: entry.name, bytes: entry.bytes, usedMs: entry.usedMs, prev: this.tail, next: null }
    if (this.tail) this.tail.next = node
    else this.head = node
    this.tail = node
    this.nodes.set(entry.name, node)
    this.bytes += entry.bytes
  }

  delete(name: string): void {
    const node = this.nodes.get(name)
    if (!node) return
    if (node.prev) node.prev.next = node.next
    else this.head = node.next
    if (node.next) node.next.prev = node.prev
    else this.tail = node.prev
    this.nodes.delete(name)
    this.bytes -= node.bytes
  }

  /** The least recently used entry not in `except` (a handful: the walk is that long). */
  oldest(except: ReadonlySet<string>): DiskEntry | null {
    for (let node = this.head; node; node = node.next) if (!except.has(node.name)) return node
    return null
  }

  /** Oldest first. */
  *values(): IterableIterator<DiskEntry> {
    for (let node = this.head; node; node = node.next) yield node
  }

  /** A copy, oldest first. */
  view(): ReadonlyMap<string, DiskEntry> {
    const copy = new Map<string, DiskEntry>()
    for (const { name, bytes, usedMs } of this.values()) copy.set(name, { name, bytes, usedMs })
    return copy
  }
}

interface IndexNode extends DiskEntry {
  prev: IndexNode | null
  next: IndexNode | null
}

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
  // A region is appended only when there is one: whole-image entries keep the names they had.
  const region = key.region ? `\n${key.region}` : ''
  return (
    createHash('sha256')
      .update(`${key.contentHash}\n${key.modelKey}\n${key.preprocess}${region}`)
      .digest('hex')
      .slice(0, 40) + ENTRY_SUFFIX
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
  /** What this object knows of the entries: built by the first scan, kept up to date since. */
  private index: EntryIndex | null = null
  /** The scan under way, if any. */
  private scanning: Promise<EntryIndex> | null = null
  /** Changes made while a scan runs, in order (null: removed), applied over its result. */
  private changedDuringScan: Map<string, DiskEntry | null> | null = null
  private writesSinceScan = 0
  /** Entries the last scan found: that many writes later, the folder is scanned again. */
  private scannedEntries = 0
  /** Evictions run one at a time: each decides from the index as the previous one left it. */
  private evicting: Promise<void> = Promise.resolve()
  /**
   * File system calls made to learn entries' sizes and last uses: folder listings and
   * per-entry stats (a scan stats every entry; an eviction only the entries it considers).
   * For tests and the bench: proof that a write over the bound does not look at every entry.
   */
  readonly io = { listings: 0, stats: 0 }
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
      this.note(name, null)
      this.emit({ type: 'corrupt', file, reason: err.message })
      return null
    }
    this.keepScratch(buf)
    if (!decoded.ok) {
      this.reportOnce({ type: 'mismatch', file, reason: decoded.reason })
      return null
    }
    this.used(name, buf.length)
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
    this.used(typeof nameOrKey === 'string' ? nameOrKey : entryName(nameOrKey))
  }

  /**
   * An entry was used now: first in the index's order and on disk (its mtime). One the index
   * does not know (another process wrote it since the scan) is added, with `bytes` when the
   * caller read it, else with the size a stat finds.
   */
  private used(name: string, bytes?: number): void {
    const now = Date.now()
    const file = join(this.dir, name)
    const size = bytes ?? this.index?.get(name)?.bytes
    if (size !== undefined) this.note(name, { name, bytes: size, usedMs: now })
    const touched = utimes(file, now / 1000, now / 1000)
    if (size === undefined && (this.index || this.changedDuringScan)) {
      touched
        .then(() => {
          this.io.stats++
          return lstat(file)
        })
        .then((st) => {
          if (st.isFile() && name.endsWith(ENTRY_SUFFIX)) this.note(name, { name, bytes: st.size, usedMs: now })
        })
        .catch(() => {})
    } else touched.catch(() => {})
  }

  /** Records a change in the index, and for the scan under way if any. */
  private note(name: string, entry: DiskEntry | null): void {
    if (entry) this.index?.set(entry)
    else this.index?.delete(name)
    if (this.changedDuringScan) {
      this.changedDuringScan.delete(name) // re-added last: the order of changes is kept
      this.changedDuringScan.set(name, entry)
    }
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
    await this.loadIndex()
    this.note(name, { name, bytes: buf.length, usedMs: Date.now() })
    this.writesSinceScan++
    await this.enforceBound(name)
    return true
  }

  /**
   * Every entry this object knows, with its size and last use, oldest first (scans the folder
   * the first time, and again when `rescan`).
   */
  async entries(rescan = false): Promise<ReadonlyMap<string, DiskEntry>> {
    return (await this.loadIndex(rescan)).view()
  }

  private loadIndex(rescan = false): Promise<EntryIndex> {
    if (this.scanning) return this.scanning
    if (this.index && !rescan) return Promise.resolve(this.index)
    this.scanning = this.scan().finally(() => (this.scanning = null))
    return this.scanning
  }

  /**
   * Lists the folder and stats each entry, a batch at a time (a scan of 20,000 entries never
   * holds the event loop for long); changes made meanwhile are applied over what it found.
   */
  private async scan(): Promise<EntryIndex> {
    this.changedDuringScan = new Map()
    try {
      let names: string[] = []
      this.io.listings++
      try {
        names = await readdir(this.dir)
      } catch {
        // no folder yet: an empty cache
      }
      const found: DiskEntry[] = []
      const now = Date.now()
      for (let i = 0; i < names.length; i += SCAN_BATCH) {
        await Promise.all(
          names.slice(i, i + SCAN_BATCH).map(async (name) => {
            this.io.stats++
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
            if (isEntry) found.push({ name, bytes: st.size, usedMs: st.mtimeMs })
            else if (name.endsWith('.tmp') && now - st.mtimeMs > STALE_TEMP_MS)
              await unlink(join(this.dir, name)).catch(() => {})
          }),
        )
      }
      // Sorted once, then linked a batch at a time: 20,000 entries at once would hold the event
      // loop for tens of milliseconds on a busy machine.
      found.sort((a, b) => a.usedMs - b.usedMs)
      const index = new EntryIndex()
      for (let i = 0; i < found.length; i++) {
        if (i > 0 && i % BUILD_BATCH === 0) await setImmediate()
        index.set(found[i])
      }
      for (const [name, entry] of this.changedDuringScan) {
        if (entry) index.set(entry)
        else index.delete(name)
      }
      this.index = index
      this.writesSinceScan = 0
      this.scannedEntries = found.length
      return index
    } finally {
      this.changedDuringScan = null
    }
  }

  async totalBytes(): Promise<number> {
    return (await this.loadIndex()).bytes
  }

  /**
   * Whether `bytes` more fit without evicting an entry used at or after `protectSince` (ms):
   * how a batch precompute knows the bound is reached before it evicts its own work. A pass
   * over the index in memory (no file system call), once per image encoded.
   */
  async canFit(bytes: number, protectSince: number): Promise<boolean> {
    const index = await this.loadIndex()
    let evictable = 0
    for (const e of index.values()) if (e.usedMs < protectSince) evictable += e.bytes
    return index.bytes - evictable + bytes <= this.bound
  }

  private enforceBound(keep: string): Promise<void> {
    const run = this.evicting.then(() => this.evict(keep))
    this.evicting = run.catch(() => {})
    return run
  }

  /**
   * Deletes the least recently used entries until the total fits, never `keep` (the entry just
   * written). Each one is stat'ed first, as the index may be behind another process: one used
   * since is kept and moved to the recent end, one already gone is dropped, then the next.
   */
  private async evict(keep: string): Promise<void> {
    const due = this.writesSinceScan >= Math.max(RESCAN_MIN_WRITES, this.scannedEntries)
    let index = await this.loadIndex(due)
    const passed = new Set([keep])
    const refreshed = new Set<string>()
    for (;;) {
      // A rescan asked for meanwhile (entries(true)) replaced the index: go on from the new one.
      if (this.index && this.index !== index) index = this.index
      if (index.bytes <= this.bound) break
      const victim = index.oldest(passed)
      if (!victim) break
      const file = join(this.dir, victim.name)
      this.io.stats++
      let st: Stats
      try {
        st = await lstat(file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.note(victim.name, null)
        else passed.add(victim.name) // cannot tell: left alone this time
        continue
      }
      if (!st.isFile()) {
        // Replaced by something that is not an entry (someone put it there): never deleted.
        this.note(victim.name, null)
        this.reportOnce({ type: 'skipped', file, reason: `${oddKind(st)}, not an entry file: skipped` })
        continue
      }
      if (st.mtimeMs > victim.usedMs + 1) {
        // Used (or rewritten) by another process since the index learned of it.
        if (refreshed.has(victim.name)) passed.add(victim.name)
        refreshed.add(victim.name)
        this.note(victim.name, { name: victim.name, bytes: st.size, usedMs: st.mtimeMs })
        continue
      }
      try {
        await unlink(file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.note(victim.name, null)
        else passed.add(victim.name)
        continue
      }
      this.note(victim.name, null)
      this.emit({ type: 'evicted', file, bytes: st.size })
    }
  }
}
