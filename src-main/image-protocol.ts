// The sam-image: protocol: how image pixels reach the sandboxed renderer. URLs name an image of
// the open project by id only (`sam-image://image/<id>` full resolution, `sam-image://preview/<id>`
// scaled to fit PREVIEW_MAX_SIDE), so a page can never name a path: no traversal, nothing
// outside the project. `?v=` carries main's version of the URL (the project open and the file's
// state); a version of an earlier open is refused, since ids restart in every project. Formats
// Chromium shows are served as they are (their bytes, the right type); others (TIFF, HEIF) are
// converted to PNG; previews of large images are downscaled by sharp with EXIF orientation
// applied, at exactly the size `previewSize` promises.
//
// What is served is decided by the project's row and checked against the file itself:
// - only rows whose header was read as an image (no header error, a known size) are served;
// - the file is opened without blocking (a FIFO or device put in its place cannot hang the
//   handler), must be a regular file (fstat after open), and open + first read have a time
//   limit (a stalled network file answers 504 instead of never);
// - its size and content must still be the image the header read found (same byte size, a
//   known image signature, the same pixel size where the first block says it): a file replaced
//   after the scan is refused, never served raw;
// - passthrough formats are streamed from the file (Content-Length, nothing read whole); what
//   sharp must decode (conversions, downscaled previews) is read into memory only under
//   MAX_DECODE_BYTES, and pixel counts are checked from the header before any decoding.
// The file descriptor is closed when the body ends, fails or is cancelled by the renderer.
// A pure request → Response function; index.ts hands it to protocol.handle.
import { constants } from 'node:fs'
import { open, realpath, type FileHandle } from 'node:fs/promises'
import sharp from 'sharp'
import { orientedSize, parseImageHeader } from './core/project/header-parse.ts'
import { MAX_IMAGE_PIXELS } from './core/segment/preprocess.ts'
import { IMAGE_SCHEME, IMAGE_VERSION, previewSize } from '../src-preload/contract/images.ts'
import type { ServableImage } from './services/image-service.ts'

export interface ImageSource {
  /**
   * The open project's image row with this id, its header read, or null (no project, unknown id,
   * file missing, or a `version` from an earlier open of a project: its ids name other images now).
   */
  servableImage(imageId: number, version: string | null): Promise<ServableImage | null>
}

export interface ImageRequest {
  url: string
  method: string
}

/** Chromium decodes these itself; their bytes are served unchanged. */
const PASSTHROUGH: { type: string; matches: (head: Buffer) => boolean }[] = [
  { type: 'image/jpeg', matches: (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff },
  {
    type: 'image/png',
    matches: (h) => h.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  { type: 'image/gif', matches: (h) => h.subarray(0, 4).toString('latin1') === 'GIF8' },
  {
    type: 'image/webp',
    matches: (h) => h.subarray(0, 4).toString('latin1') === 'RIFF' && h.subarray(8, 12).toString('latin1') === 'WEBP',
  },
  { type: 'image/bmp', matches: (h) => h.subarray(0, 2).toString('latin1') === 'BM' },
  {
    type: 'image/avif',
    matches: (h) =>
      h.subarray(4, 8).toString('latin1') === 'ftyp' && /^avi[fs]$/.test(h.subarray(8, 12).toString('latin1')),
  },
]

export function sniffImageType(bytes: Buffer): string | null {
  return PASSTHROUGH.find((format) => format.matches(bytes))?.type ?? null
}

const ID_PATH = /^\/([1-9][0-9]{0,15})$/

/** Parses a protocol URL into what it asks for, or null when it is not one of ours. */
export function parseImageUrl(
  url: string,
): { kind: 'image' | 'preview'; imageId: number; version: string | null } | null {
  // Refuse traversal and encoding tricks before URL parsing normalises them away
  // (`sam-image://image/1/../2` would otherwise quietly become image 2).
  if (url.length > 200 || url.includes('..') || url.includes('%') || url.includes('\\')) return null
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== `${IMAGE_SCHEME}:` || parsed.username !== '' || parsed.password !== '' || parsed.port !== '')
    return null
  if (parsed.hostname !== 'image' && parsed.hostname !== 'preview') return null
  const match = ID_PATH.exec(parsed.pathname)
  if (match === null) return null
  const imageId = Number(match[1])
  if (!Number.isSafeInteger(imageId)) return null
  const params = [...parsed.searchParams.keys()]
  if (params.some((key) => key !== 'v') || params.length > 1) return null
  const version = parsed.searchParams.get('v')
  if (version !== null && !IMAGE_VERSION.test(version)) return null
  return { kind: parsed.hostname, imageId, version }
}

/** A few recent previews in memory: switching back and forth between images costs no resize. */
export class PreviewCache {
  private readonly entries = new Map<string, { bytes: Buffer; type: string }>()
  private bytes = 0
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(key: string): { bytes: Buffer; type: string } | undefined {
    const hit = this.entries.get(key)
    if (hit === undefined) return undefined
    // Re-inserting keeps the Map in least-recently-used order.
    this.entries.delete(key)
    this.entries.set(key, hit)
    return hit
  }

  set(key: string, bytes: Buffer, type: string): void {
    const old = this.entries.get(key)
    if (old !== undefined) this.bytes -= old.bytes.length
    this.entries.delete(key)
    this.entries.set(key, { bytes, type })
    this.bytes += bytes.length
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes || this.entries.size <= 1) break
      this.entries.delete(oldest)
      this.bytes -= entry.bytes.length
    }
  }
}

/** Bytes the first read takes: every signature we sniff, and the block the scan parsed the header from. */
const HEAD_BYTES = 64 * 1024
/** Bytes per read of a streamed body. */
const CHUNK_BYTES = 256 * 1024
/** Time limit on open + fstat + first read, and on each later read of a file loaded for decoding. */
export const OPEN_TIMEOUT_MS = 5000
/**
 * Files sharp must decode (TIFF and HEIF conversions, downscaled previews) are read whole into
 * main's memory first; larger ones are refused. Passthrough files are streamed at any size.
 */
export const MAX_DECODE_BYTES = 512 * 1024 * 1024

// O_NONBLOCK: opening a FIFO without a writer returns at once instead of blocking a libuv
// thread for ever (then fstat refuses it); on a regular file it changes nothing. O_NOFOLLOW: the
// open itself never follows a link (see openRegularFile). Windows has neither flag.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0)

/** Signatures of formats sharp converts for Chromium: TIFF, and ISO-BMFF (HEIF, other AVIF brands). */
const CONVERTIBLE: ((head: Buffer) => boolean)[] = [
  (h) => h.subarray(0, 4).toString('latin1') === 'II*\0' || h.subarray(0, 4).toString('latin1') === 'MM\0*',
  (h) => h.subarray(4, 8).toString('latin1') === 'ftyp',
]

/** A request answered with an error status and a one-line reason. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function plain(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
  })
}

function imageHeaders(type: string, length: number, extra: Record<string, string>): Record<string, string> {
  return {
    'Content-Type': type,
    'Content-Length': String(length),
    // The file may be replaced on disk between visits; revalidate rather than trust a cache.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    // Lets the canvas read pixels of images loaded with crossOrigin (no tainting).
    'Access-Control-Allow-Origin': '*',
    ...extra,
  }
}

function bufferResponse(bytes: Buffer, type: string, head: boolean, extra: Record<string, string>): Response {
  // A Blob is a body under both Node's and the DOM's typings (the e2e bridge type-checks this file with DOM).
  const body = head ? null : new Blob([new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)])
  return new Response(body, { status: 200, headers: imageHeaders(type, bytes.length, extra) })
}

/** An open image file, checked to be a regular file, with its first block read. */
interface OpenedFile {
  handle: FileHandle
  size: number
  mtimeMs: number
  head: Buffer
}

/** Closes once, never throws: every path out of a request ends here. */
function closeFile(file: OpenedFile): void {
  void file.handle.close().catch(() => {})
}

/** `work` or a 504 after `ms`; a result arriving after that is handed to `late` (to close it). */
function withTimeout<T>(work: Promise<T>, ms: number, message: string, late: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false
    const timer = setTimeout(() => {
      expired = true
      reject(new Refusal(504, message))
    }, ms)
    work.then(
      (value) => {
        clearTimeout(timer)
        if (expired) late(value)
        else resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        if (!expired) reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}

/**
 * Opens without following a link. The scan lists links to image files outside the project (a
 * dataset kept elsewhere), so a link is resolved here, once, to the path it names now, and that
 * path is opened without following either: what is opened is never a link, and fstat then says
 * whether it is a regular file.
 */
async function openNoFollow(file: string): Promise<FileHandle> {
  try {
    return await open(file, OPEN_FLAGS)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err
    return await open(await realpath(file), OPEN_FLAGS)
  }
}

function fileKind(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (info.isDirectory()) return 'a folder'
  if (info.isFIFO()) return 'a FIFO'
  if (info.isSocket()) return 'a socket'
  return 'a device or other special file'
}

async function openRegularFile(target: ServableImage): Promise<OpenedFile> {
  const handle = await openNoFollow(target.file)
  try {
    const info = await handle.stat()
    if (!info.isFile())
      throw new Refusal(422, `the file of image ${target.id} is not a regular file (it is ${fileKind(info)})`)
    const head = Buffer.alloc(Math.min(HEAD_BYTES, info.size))
    const { bytesRead } = await handle.read(head, 0, head.length, 0)
    return { handle, size: info.size, mtimeMs: info.mtimeMs, head: head.subarray(0, bytesRead) }
  } catch (err) {
    await handle.close().catch(() => {})
    throw err
  }
}

function openImage(target: ServableImage, timeoutMs: number): Promise<OpenedFile> {
  return withTimeout(
    openRegularFile(target),
    timeoutMs,
    `the file of image ${target.id} did not answer within ${timeoutMs / 1000} s`,
    closeFile,
  )
}

/** Refuses a file that is no longer the image its row describes; returns its passthrough type, or null to convert. */
function checkContent(target: ServableImage, file: OpenedFile): string | null {
  const changed = `the file of image ${target.id} changed since it was scanned`
  if (file.size !== target.size)
    throw new Refusal(409, `${changed} (${target.size} bytes then, ${file.size} now): rescan the folder`)
  const type = sniffImageType(file.head)
  if (type === null) {
    if (!CONVERTIBLE.some((matches) => matches(file.head)))
      throw new Refusal(409, `${changed}: its content is not an image format this app reads`)
    return null
  }
  const parsed = parseImageHeader(file.head)
  if (parsed !== null) checkSize(target, orientedSize(parsed), changed)
  return type
}

function checkSize(target: ServableImage, seen: { width: number; height: number }, changed: string): void {
  if (seen.width !== target.width || seen.height !== target.height)
    throw new Refusal(
      409,
      `${changed}: it was ${target.width}x${target.height}, its header says ${seen.width}x${seen.height} now`,
    )
}

/** The body of a passthrough file: read chunk by chunk as the consumer pulls, closed at the end or on cancel. */
function fileBody(file: OpenedFile): ReadableStream<Uint8Array> {
  let offset = 0
  let done = false
  const finish = (): void => {
    if (done) return
    done = true
    closeFile(file)
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (offset < file.head.length) {
          controller.enqueue(file.head)
          offset = file.head.length
        } else if (offset < file.size) {
          const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, file.size - offset))
          const { bytesRead } = await file.handle.read(chunk, 0, chunk.length, offset)
          if (bytesRead === 0) throw new Error(`the file shrank while it was sent (${offset} of ${file.size} bytes)`)
          offset += bytesRead
          controller.enqueue(chunk.subarray(0, bytesRead))
        }
        if (offset >= file.size) {
          finish()
          controller.close()
        }
      } catch (err) {
        finish()
        controller.error(err)
      }
    },
    cancel() {
      finish()
    },
  })
}

function streamResponse(file: OpenedFile, type: string, head: boolean, extra: Record<string, string>): Response {
  if (head) closeFile(file)
  return new Response(head ? null : fileBody(file), { status: 200, headers: imageHeaders(type, file.size, extra) })
}

/** The whole file, for sharp: refused above MAX_DECODE_BYTES before anything more is read. */
async function readWhole(target: ServableImage, file: OpenedFile, timeoutMs: number): Promise<Buffer> {
  if (file.size > MAX_DECODE_BYTES)
    throw new Refusal(
      422,
      `image ${target.id} is ${(file.size / 2 ** 20).toFixed(0)} MB; converting or downscaling it would read more than the ${MAX_DECODE_BYTES / 2 ** 20} MB this app decodes at once`,
    )
  const bytes = Buffer.allocUnsafe(file.size)
  file.head.copy(bytes)
  let offset = file.head.length
  while (offset < file.size) {
    const { bytesRead } = await withTimeout(
      file.handle.read(bytes, offset, Math.min(16 * CHUNK_BYTES, file.size - offset), offset),
      timeoutMs,
      `the file of image ${target.id} stalled while it was read`,
      () => {},
    )
    if (bytesRead === 0) throw new Refusal(409, `the file of image ${target.id} shrank while it was read`)
    offset += bytesRead
  }
  return bytes
}

/** Header only (no pixels): the decoded image must be the row's, and within the pixel limit. */
async function checkDecodable(target: ServableImage, bytes: Buffer): Promise<{ hasAlpha: boolean }> {
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata()
  const width = meta.width ?? 0
  const height = meta.height ?? 0
  if (width * height > MAX_IMAGE_PIXELS)
    throw new Refusal(
      422,
      `image ${target.id} is ${width}x${height}, more than the ${(MAX_IMAGE_PIXELS / 1e6).toFixed(0)} MP this app decodes`,
    )
  const swap = (meta.orientation ?? 1) >= 5 && (meta.orientation ?? 1) <= 8
  checkSize(
    target,
    swap ? { width: height, height: width } : { width, height },
    `the file of image ${target.id} changed since it was scanned`,
  )
  return { hasAlpha: meta.hasAlpha ?? false }
}

/** Full resolution: the file streamed when Chromium shows the format, else a PNG. */
async function fullImage(
  target: ServableImage,
  file: OpenedFile,
  type: string | null,
  head: boolean,
  timeoutMs: number,
  extra: Record<string, string> = {},
): Promise<Response> {
  if (type !== null) return streamResponse(file, type, head, extra)
  let bytes: Buffer
  try {
    bytes = await readWhole(target, file, timeoutMs)
  } finally {
    closeFile(file)
  }
  await checkDecodable(target, bytes)
  const png = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, autoOrient: true })
    .png({ compressionLevel: 3 })
    .toBuffer()
  return bufferResponse(png, 'image/png', head, extra)
}

async function previewImage(
  target: ServableImage & { width: number; height: number },
  file: OpenedFile,
  type: string | null,
  head: boolean,
  timeoutMs: number,
  cache: PreviewCache | undefined,
): Promise<Response> {
  const size = previewSize(target.width, target.height)
  // BMP: libvips cannot decode it, and Chromium shows it as it is.
  if (!size.downscaled || type === 'image/bmp')
    return fullImage(target, file, type, head, timeoutMs, {
      'X-Image-Width': String(target.width),
      'X-Image-Height': String(target.height),
    })
  const extra = { 'X-Image-Width': String(size.width), 'X-Image-Height': String(size.height) }
  const key = `${target.file}|${file.size}|${file.mtimeMs}`
  const hit = cache?.get(key)
  if (hit !== undefined) {
    closeFile(file)
    return bufferResponse(hit.bytes, hit.type, head, extra)
  }
  let bytes: Buffer
  try {
    bytes = await readWhole(target, file, timeoutMs)
  } finally {
    closeFile(file)
  }
  const { hasAlpha } = await checkDecodable(target, bytes)
  const resized = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, autoOrient: true }).resize(
    size.width,
    size.height,
    { fit: 'fill' },
  )
  const out = hasAlpha ? await resized.webp({ quality: 85 }).toBuffer() : await resized.jpeg({ quality: 85 }).toBuffer()
  const outType = hasAlpha ? 'image/webp' : 'image/jpeg'
  cache?.set(key, out, outType)
  return bufferResponse(out, outType, head, extra)
}

export interface ImageRequestOptions {
  /** Limit on open + first read (and on each read of a file loaded for decoding). */
  timeoutMs?: number
}

/**
 * Answers one sam-image: request. 400 for anything that is not `<scheme>://image|preview/<id>`,
 * 404 for an id that is not an image of the open project (or whose file is gone), 405 for
 * methods other than GET and HEAD, 409 for a file that is no longer the image that was scanned,
 * 422 for a row whose header was not read as an image, a file that is not a regular file, too
 * large to decode, or cannot be decoded, 504 for a file that does not answer in time.
 */
export async function handleImageRequest(
  request: ImageRequest,
  source: ImageSource,
  cache?: PreviewCache,
  options: ImageRequestOptions = {},
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, `${request.method} is not allowed`)
  const wanted = parseImageUrl(request.url)
  if (wanted === null)
    return plain(
      400,
      'not an image URL of this app: expected sam-image://image/<id>[?v=<version>] or sam-image://preview/<id>[?v=<version>]',
    )
  const target = await source.servableImage(wanted.imageId, wanted.version)
  if (target === null) return plain(404, `no image ${wanted.imageId} in the open project`)
  if (target.error !== null) return plain(422, `image ${wanted.imageId} cannot be shown: ${target.error}`)
  const { width, height } = target
  // Still unread after the source tried to read it: the file vanished in between.
  if (width === null || height === null) return plain(404, `the file of image ${wanted.imageId} is gone`)
  const head = request.method === 'HEAD'
  const timeoutMs = options.timeoutMs ?? OPEN_TIMEOUT_MS
  let file: OpenedFile | null = null
  try {
    file = await openImage(target, timeoutMs)
    const type = checkContent(target, file)
    return wanted.kind === 'image'
      ? await fullImage(target, file, type, head, timeoutMs)
      : await previewImage({ ...target, width, height }, file, type, head, timeoutMs, cache)
  } catch (err) {
    // Every path that hands the file on closes it itself; closing again is harmless.
    if (file !== null) closeFile(file)
    if (err instanceof Refusal) return plain(err.status, err.message)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return plain(404, `the file of image ${wanted.imageId} is gone`)
    if (code === 'ELOOP') return plain(422, `the file of image ${wanted.imageId} is a link that cannot be resolved`)
    if (code === 'EACCES' || code === 'EPERM')
      return plain(422, `the file of image ${wanted.imageId} cannot be read: permission denied`)
    return plain(
      422,
      `image ${wanted.imageId} cannot be decoded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    )
  }
}
