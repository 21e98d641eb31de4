// The file-system side of a project: finding image files, fingerprinting them, and reading
// their headers. No SQL here; Project decides what to store.
//
// Fingerprint (how a renamed or moved file is recognised): SHA-256 over the file size
// (8 bytes, big-endian), the first 64 KiB and the last 64 KiB (the whole file when it is
// smaller). Two different photos practically never share size, header block (EXIF with
// timestamps, quantisation tables) and tail; reading 128 KiB instead of the whole file keeps
// re-linking cheap for 30 MB images.
//
// Header reading: a small JS parser (header-parse.ts) answers for ordinary JPEG, PNG, GIF and
// WebP; everything else goes through the engine's own reader (sharp metadata), so the list and
// the engine agree on what can be read. No pixels are decoded, except once to confirm a
// suspected truncation: a JPEG whose last 64 KiB hold no end-of-image marker after the last
// start-of-scan, or a PNG without its IEND chunk, is decoded to tell a truncated file from one
// with a trailer (e.g. the video that "motion photos" append). Well-formed files never pay
// for that decode.

import { isUtf8 } from 'node:buffer'
import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { open, readdir, realpath } from 'node:fs/promises'
import { extname, join, sep } from 'node:path'
import sharp from 'sharp'
import { isUserError } from '../errors.ts'
import { MAX_IMAGE_PIXELS, readImageHeader } from '../segment/preprocess.ts'
import { orientedSize, parseImageHeader } from './header-parse.ts'
import type { ScanSkipped } from './types.ts'

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.tif',
  '.tiff',
  '.bmp',
  '.gif',
  '.avif',
])
export const FINGERPRINT_BLOCK = 64 * 1024

export interface FoundFile {
  /** Relative to the folder, '/' separators. */
  path: string
  size: number
  mtimeMs: number
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

/** Natural order ("img2" before "img10"), with a plain comparison breaking ties so the order is total. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)
}

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase())
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** Resolves after the event loop has run, once `sliceMs` have passed since the last time it did. */
export function slicer(sliceMs = 8): () => Promise<void> {
  let slice = performance.now()
  return async () => {
    if (performance.now() - slice <= sliceMs) return
    await new Promise((done) => setImmediate(done))
    slice = performance.now()
  }
}

/**
 * Sorts `items` (in place, stable) like Array.prototype.sort, yielding to the event loop between
 * runs of work: sorting 100,000 paths by natural order takes far longer than a frame.
 */
export async function sortYielding<T>(items: T[], compare: (a: T, b: T) => number, sliceMs = 8): Promise<T[]> {
  const pause = slicer(sliceMs)
  // Bottom-up merge sort: runs of 32 sorted directly, then merged pairwise.
  const RUN = 32
  for (let i = 0; i < items.length; i += RUN) {
    const run = items.slice(i, i + RUN).sort(compare)
    for (let k = 0; k < run.length; k++) items[i + k] = run[k]
    if (i % 1024 === 0) await pause()
  }
  let from = items
  let to = new Array<T>(items.length)
  for (let width = RUN; width < items.length; width *= 2) {
    for (let lo = 0; lo < items.length; lo += 2 * width) {
      const mid = Math.min(lo + width, items.length)
      const hi = Math.min(lo + 2 * width, items.length)
      let a = lo
      let b = mid
      let k = lo
      while (a < mid && b < hi) {
        to[k++] = compare(from[b], from[a]) < 0 ? from[b++] : from[a++]
        if ((k & 1023) === 0) await pause()
      }
      while (a < mid) to[k++] = from[a++]
      while (b < hi) to[k++] = from[b++]
    }
    ;[from, to] = [to, from]
  }
  if (from !== items) for (let k = 0; k < items.length; k++) items[k] = from[k]
  return items
}

/** A name's bytes as text: valid UTF-8 decoded, every other byte written as `\xFF`. */
export function describeNameBytes(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const c = bytes[i]
    const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0
    const seq = len > 0 && i + len <= bytes.length ? bytes.subarray(i, i + len) : null
    if (seq && isUtf8(seq)) {
      out += Buffer.from(seq.buffer, seq.byteOffset, seq.byteLength).toString('utf8')
      i += len
    } else {
      out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`
      i++
    }
  }
  return out
}

/** An fs error's code in words, for a skipped entry. */
function failure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  return code ?? (err as Error)?.message ?? String(err)
}

/** Gone between listing and reading (or a link to nothing): not worth a word, the next scan agrees. */
const isGone = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException)?.code ?? '')

export interface FoundImages {
  files: FoundFile[]
  /** What could not be listed, with why, in natural order of path. */
  skipped: ScanSkipped[]
}

/**
 * Every image file under `folder`, recursively. Dot-names (hidden files and folders, our own
 * `.sam-annotator` included) are skipped. Symbolic links to files are followed; links to
 * folders are not, so a link cycle cannot make the walk endless.
 *
 * What cannot be listed is returned as skipped, with the reason, never dropped without a word:
 * sub-folders that cannot be read (EACCES), files that cannot be stat'ed, and names that are
 * not valid UTF-8. Linux allows any bytes in a name; Node would hand such a name over with
 * replacement characters, a path that names no file, so it could be neither stored nor opened
 * again. Names are therefore read as bytes and checked.
 */
export async function findImageFiles(folder: string): Promise<FoundImages> {
  const files: string[] = []
  const links: string[] = []
  const skipped: ScanSkipped[] = []
  const walk = async (rel: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(rel ? join(folder, rel) : folder, { withFileTypes: true, encoding: 'buffer' })
    } catch (err) {
      if (!rel) throw err
      if (!isGone(err))
        skipped.push({
          path: rel,
          reason: 'unreadable-folder',
          detail: `cannot read the folder (${failure(err)}); its images are not listed`,
        })
      return
    }
    const subdirs: string[] = []
    for (const entry of entries) {
      const bytes = entry.name
      if (bytes[0] === 0x2e) continue // '.'
      const valid = isUtf8(bytes)
      const name = valid ? bytes.toString('utf8') : describeNameBytes(bytes)
      const relPath = rel ? `${rel}/${name}` : name
      const isDir = entry.isDirectory()
      const isImage = (entry.isFile() || entry.isSymbolicLink()) && isImageFileName(name)
      if (!valid) {
        if (isDir || isImage)
          skipped.push({
            path: relPath,
            reason: 'name-not-utf8',
            detail: isDir
              ? 'the folder name is not valid UTF-8, so its images are not listed (rename it)'
              : 'the file name is not valid UTF-8, so it cannot be stored and opened again (rename it)',
          })
        continue
      }
      if (isDir) subdirs.push(relPath)
      else if (isImage && entry.isFile()) files.push(relPath)
      else if (isImage) links.push(relPath)
    }
    await Promise.all(subdirs.map(walk))
  }
  await walk('')
  // A link to a file inside this same folder (e.g. the images/ tree of a YOLO export written
  // into the project) is an image already listed under its own path: listing it again would
  // duplicate the image and split its annotations.
  const root = await realpath(folder)
  const outsideLinks = await mapLimit(links, 64, async (rel) => {
    try {
      const target = await realpath(join(folder, ...rel.split('/')))
      return target.startsWith(root + sep) ? null : rel
    } catch (err) {
      // A dangling link is nothing to list; a link that cannot be followed is said.
      if (!isGone(err))
        skipped.push({ path: rel, reason: 'unreadable-file', detail: `cannot read the file (${failure(err)})` })
      return null
    }
  })
  const all = [...files, ...outsideLinks.filter((rel): rel is string => rel !== null)]
  // Stat'ed in this thread, in slices that yield to the event loop: a local stat costs a few µs,
  // while a promise per file through libuv's pool cost 30+ µs of this thread's time each, which
  // made a rescan of 100,000 unchanged files cost most of a first scan.
  const pause = slicer()
  const stated: FoundFile[] = []
  for (const rel of all) {
    await pause()
    try {
      const st = statSync(join(folder, ...rel.split('/')))
      if (st.isFile()) stated.push({ path: rel, size: st.size, mtimeMs: st.mtimeMs })
    } catch (err) {
      // vanished between listing and stat, or a dangling link: nothing there to list
      if (!isGone(err))
        skipped.push({ path: rel, reason: 'unreadable-file', detail: `cannot read the file (${failure(err)})` })
    }
  }
  skipped.sort((a, b) => naturalCompare(a.path, b.path))
  return { files: stated, skipped }
}

export interface FileSample {
  size: number
  fingerprint: string
  /** The first min(64 KiB, size) bytes. */
  head: Buffer
  /** The last min(64 KiB, size) bytes (overlaps head for small files). */
  tail: Buffer
}

/** Reads the two 64 KiB blocks and computes the fingerprint (see the header comment). */
export async function sampleFile(file: string): Promise<FileSample> {
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    const headLength = Math.min(FINGERPRINT_BLOCK, size)
    const head = Buffer.alloc(headLength)
    if (headLength > 0) await handle.read(head, 0, headLength, 0)
    let tail = head
    if (size > FINGERPRINT_BLOCK) {
      tail = Buffer.alloc(FINGERPRINT_BLOCK)
      await handle.read(tail, 0, FINGERPRINT_BLOCK, size - FINGERPRINT_BLOCK)
    }
    const sizeBytes = Buffer.alloc(8)
    sizeBytes.writeBigUInt64BE(BigInt(size))
    const hash = createHash('sha256').update(sizeBytes).update(head)
    // The tail bytes not already covered by the head.
    if (size > FINGERPRINT_BLOCK) hash.update(tail.subarray(Math.max(0, 2 * FINGERPRINT_BLOCK - size)))
    return { size, fingerprint: hash.digest('hex'), head, tail }
  } finally {
    await handle.close()
  }
}

function lastIndexOfMarker(buf: Buffer, second: number): number {
  for (let i = buf.length - 2; i >= 0; i--) if (buf[i] === 0xff && buf[i + 1] === second) return i
  return -1
}

/** Cheap look at the file's ends: could this file be cut short? */
export function looksTruncated(sample: FileSample): boolean {
  const { head, tail } = sample
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    const eoi = lastIndexOfMarker(tail, 0xd9)
    return eoi < 0 || eoi < lastIndexOfMarker(tail, 0xda)
  }
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a) {
    return tail.lastIndexOf('IEND', undefined, 'latin1') < 0
  }
  return false
}

export interface HeaderResult {
  width: number | null
  height: number | null
  error: string | null
}

/** Strips the `<file>: ` prefix the shared reader puts on its messages: the row names the file. */
function withoutPath(message: string, file: string): string {
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message
}

/**
 * Oriented width and height from the header (EXIF orientation 5-8 swaps them), or the reason
 * the image cannot be used. Never throws for a bad image: the error is data.
 */
export async function readHeader(
  file: string,
  sample: FileSample,
  maxPixels = MAX_IMAGE_PIXELS,
): Promise<HeaderResult> {
  if (sample.size === 0) return { width: null, height: null, error: 'empty file (0 bytes)' }
  let width: number
  let height: number
  const parsed = parseImageHeader(sample.head)
  if (parsed) {
    ;({ width, height } = orientedSize(parsed))
    if (width * height > maxPixels) {
      // Same wording as the shared reader, so the list and the engine say the same thing.
      return {
        width: null,
        height: null,
        error: `${width}x${height} is ${((width * height) / 1e6).toFixed(0)} MP, more than the ${(maxPixels / 1e6).toFixed(0)} MP this app accepts`,
      }
    }
  } else {
    try {
      const header = await readImageHeader(file, maxPixels)
      width = header.width
      height = header.height
    } catch (err) {
      if (isUserError(err)) return { width: null, height: null, error: withoutPath(err.message, file) }
      return { width: null, height: null, error: `cannot read image (${(err as Error).message})` }
    }
  }
  if (looksTruncated(sample)) {
    try {
      await sharp(file, { failOn: 'truncated', limitInputPixels: maxPixels }).raw().toBuffer()
    } catch (err) {
      return {
        width,
        height,
        error: `truncated or damaged image data (${((err as Error).message ?? '').split('\n')[0]})`,
      }
    }
  }
  return { width, height, error: null }
}
