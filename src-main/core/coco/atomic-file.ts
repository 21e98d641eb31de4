// Files that appear whole or not at all. Content goes to a temporary file in the target's own
// folder (a rename across file systems is not atomic), is fsynced, then renamed over the target;
// the folder is fsynced too so the rename itself survives a power cut. Until `commit()` the
// previous file (if any) is untouched, and `abort()` removes every trace of the attempt.
//
// `AtomicTextWriter` also streams: callers append small strings, which are joined and written
// in chunks of about CHUNK_CHARS, so a large export never holds its whole text in memory.
//
// The temp file is named `.sam-annotator-tmp-<host>-<pid>-<random>` (staging.ts): short, so a
// target with a 255-byte name still gets one, and recognisable, so the next export into that
// folder removes one left by a killed process.

import { open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileError } from './file-errors.ts'
import { removeDeadTempFiles, syncFolder, tempPathFor } from './staging.ts'

const CHUNK_CHARS = 1 << 16

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
    // What an export killed earlier left here; then a temp name that fits beside any target name.
    removeDeadTempFiles(dirname(target))
    const temp = tempPathFor(target)
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
      // writeFile, not write: one write() may take only part of the chunk (a nearly full disk)
      // and return the count rather than fail; writeFile loops until all of it is written.
      await this.handle.writeFile(chunk, 'utf8')
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
