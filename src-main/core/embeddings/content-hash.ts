// Content hashes of image (and model) files, remembered per file identity so a cache lookup
// costs a stat, not a read of a 12 MB JPEG.
//
// A remembered hash is reused only while the file's size, mtime, ctime and inode are all
// unchanged. ctime cannot be set back by tools that restore mtime (touch -r, rsync -t), so an
// edit in place that keeps size and mtime is still noticed; a copied or moved folder changes
// inode or ctime and merely costs one rehash per file.
//
// The memory is an append-only log of JSON lines beside the cache (one line per new hash,
// last line wins). Appends from two processes interleave whole lines; a torn line is skipped.
// The log is compacted when most of it is superseded.

import { createHash } from 'node:crypto'
import { appendFileSync, createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { UserError } from '../errors.ts'

interface Remembered {
  size: number
  mtimeMs: number
  ctimeMs: number
  ino: number
  hash: string
}

interface LogLine extends Remembered {
  path: string
}

function parseLine(line: string): LogLine | null {
  try {
    const v = JSON.parse(line) as Partial<LogLine>
    if (
      typeof v.path === 'string' &&
      typeof v.hash === 'string' &&
      /^[0-9a-f]{64}$/.test(v.hash) &&
      typeof v.size === 'number' &&
      typeof v.mtimeMs === 'number' &&
      typeof v.ctimeMs === 'number' &&
      typeof v.ino === 'number'
    ) {
      return { path: v.path, size: v.size, mtimeMs: v.mtimeMs, ctimeMs: v.ctimeMs, ino: v.ino, hash: v.hash }
    }
  } catch {
    // a torn or foreign line: ignored
  }
  return null
}

export class ContentHasher {
  private readonly known = new Map<string, Remembered>()
  private lines = 0
  /** Hashes being computed, so two callers of the same file share one read. */
  private readonly pending = new Map<string, Promise<string>>()

  /** `logFile`: where hashes persist across runs; null keeps them in memory only. */
  constructor(private readonly logFile: string | null) {
    if (logFile && existsSync(logFile)) {
      for (const line of readFileSync(logFile, 'utf8').split('\n')) {
        if (!line) continue
        this.lines++
        const entry = parseLine(line)
        if (entry) this.known.set(entry.path, entry)
      }
    }
  }

  /** sha256 (hex) of the file's bytes. Throws UserError naming the file when it cannot be read. */
  async hash(fileArg: string): Promise<string> {
    const file = resolve(fileArg)
    let st
    try {
      st = await stat(file)
    } catch (err) {
      throw new UserError('image-missing', `${file}: file not found`, { cause: err })
    }
    const known = this.known.get(file)
    if (
      known &&
      known.size === st.size &&
      known.mtimeMs === st.mtimeMs &&
      known.ctimeMs === st.ctimeMs &&
      known.ino === st.ino
    ) {
      return known.hash
    }
    const key = `${file}\n${st.size}\n${st.mtimeMs}\n${st.ctimeMs}\n${st.ino}`
    let job = this.pending.get(key)
    if (!job) {
      job = this.compute(file, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino })
      this.pending.set(key, job)
      job.finally(() => this.pending.delete(key)).catch(() => {})
    }
    return job
  }

  private async compute(file: string, identity: Omit<Remembered, 'hash'>): Promise<string> {
    // Read and hashed a chunk at a time: the model's 160 MB encoder hashed in one call held the
    // event loop (and with it the app's window) for 400 ms.
    const hasher = createHash('sha256')
    try {
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hasher.update(chunk as Buffer)
    } catch (err) {
      throw new UserError('image-unreadable', `${file}: cannot read (${(err as Error).message})`, { cause: err })
    }
    const hash = hasher.digest('hex')
    // A file rewritten while we read it would pair old bytes with a new identity; then do not
    // remember, so the next lookup hashes again.
    const after = await stat(file).catch(() => null)
    if (
      after &&
      after.size === identity.size &&
      after.mtimeMs === identity.mtimeMs &&
      after.ctimeMs === identity.ctimeMs
    ) {
      const entry = { ...identity, hash }
      this.known.set(file, entry)
      this.remember({ path: file, ...entry })
    }
    return hash
  }

  private remember(line: LogLine): void {
    if (!this.logFile) return
    try {
      if (this.lines > 1000 && this.lines > 2 * this.known.size) this.compact()
      appendFileSync(this.logFile, JSON.stringify(line) + '\n')
      this.lines++
    } catch {
      // Only a speed-up: a read-only or full disk means hashing again next time.
    }
  }

  private compact(): void {
    const file = this.logFile as string
    const temp = `${file}.${process.pid}.tmp`
    writeFileSync(temp, [...this.known].map(([path, r]) => JSON.stringify({ path, ...r }) + '\n').join(''))
    renameSync(temp, file)
    this.lines = this.known.size
  }
}
