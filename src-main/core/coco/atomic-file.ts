// Files that appear whole or not at all. Content goes to a temporary file in the target's own
// folder (a rename across file systems is not atomic), is fsynced, then renamed over the target;
// the folder is fsynced too so the rename itself survives a power cut. Until `commit()` the
// previous file (if any) is untouched, and `abort()` removes every trace of the attempt.
//
// `AtomicTextWriter` also streams: callers append small strings, which are joined and written
// in chunks of about CHUNK_CHARS, so a large export never holds its whole text in memory.

import { randomBytes } from 'node:crypto'
import { open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { UserError } from '../errors.ts'

const CHUNK_CHARS = 1 << 16

function tempName(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/** Maps file-system failures to a UserError that names the file; anything else passes through. */
export function fileError(file: string, what: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOSPC')
    return new UserError('disk-full', `${file}: the disk is full; nothing was written`, { cause: err })
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new UserError('write-denied', `${file}: cannot ${what} (permission denied)`, { cause: err })
  }
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new UserError('write-folder', `${file}: cannot ${what} (the folder does not exist)`, { cause: err })
  if (code === 'EISDIR') return new UserError('write-folder', `${file}: is a folder, not a file`, { cause: err })
  return err
}

/** fsync a folder so a rename in it is durable. Not supported everywhere (Windows): best effort. */
function syncFolder(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Folders cannot be opened for fsync on some platforms; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export class AtomicTextWriter {
  readonly target: string
  private readonly temp: string
  private handle: FileHandle | null
  private parts: string[] = []
  private pending = 0
  private finished = false

  private constructor(target: string, temp: string, handle: FileHandle) {
    this.target = target
    this.temp = temp
    this.handle = handle
  }

  static async create(target: string): Promise<AtomicTextWriter> {
    const temp = tempName(target)
    let handle: FileHandle
    try {
      handle = await open(temp, 'wx')
    } catch (err) {
      throw fileError(target, 'write', err)
    }
    return new AtomicTextWriter(target, temp, handle)
  }

  /** Queues text; returns true when a chunk is ready and the caller should `await flush()`. */
  write(text: string): boolean {
    this.parts.push(text)
    this.pending += text.length
    return this.pending >= CHUNK_CHARS
  }

  async flush(): Promise<void> {
    if (this.pending === 0 || this.handle === null) return
    const chunk = this.parts.join('')
    this.parts = []
    this.pending = 0
    try {
      await this.handle.write(chunk, null, 'utf8')
    } catch (err) {
      throw fileError(this.target, 'write', err)
    }
  }

  /** Flushes, fsyncs and renames over the target. On failure the temp file is removed and the target left as it was. */
  async commit(): Promise<void> {
    if (this.finished) throw new Error(`${this.target}: writer already finished`)
    try {
      await this.flush()
      const handle = this.handle as FileHandle
      await handle.sync()
      await handle.close()
      this.handle = null
      await rename(this.temp, this.target)
      this.finished = true
    } catch (err) {
      await this.abort()
      throw fileError(this.target, 'write', err)
    }
    syncFolder(dirname(this.target))
  }

  /** Drops the attempt: closes and deletes the temp file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.finished) return
    this.finished = true
    this.parts = []
    if (this.handle !== null) {
      await this.handle.close().catch(() => undefined)
      this.handle = null
    }
    await unlink(this.temp).catch(() => undefined)
  }
}

/**
 * Writes a small file atomically in one go (temp file, rename). `durable` also fsyncs the data
 * and the folder; per-file label exports skip that (thousands of fsyncs cost seconds) and still
 * never leave a half-written file in place of a whole one.
 */
export function writeFileAtomicSync(target: string, content: string, durable: boolean): void {
  const temp = tempName(target)
  let fd: number | undefined
  try {
    fd = openSync(temp, 'wx')
    writeSync(fd, content, null, 'utf8')
    if (durable) fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(temp, target)
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd)
      } catch {
        // already failing; the original error is what matters
      }
    }
    try {
      unlinkSync(temp)
    } catch {
      // never created, or already renamed
    }
    throw fileError(target, 'write', err)
  }
  if (durable) syncFolder(dirname(target))
}
