// The sam-image: protocol: how image pixels reach the sandboxed renderer. URLs name an image of
// the open project by id only (`sam-image://image/<id>` full resolution, `sam-image://preview/<id>`
// scaled to fit PREVIEW_MAX_SIDE), so a page can never name a path: no traversal, nothing
// outside the project. `?v=` carries main's version of the URL (the project open and the file's
// state); a version of an earlier open is refused, since ids restart in every project. Formats
// Chromium shows are served as they are (their bytes, the right type); others (TIFF, HEIF) are
// converted to PNG; previews of large images are downscaled by sharp with EXIF orientation
// applied, at exactly the size `previewSize` promises.
// A pure request → Response function; index.ts hands it to protocol.handle.
import { readFile, stat } from 'node:fs/promises'
import sharp from 'sharp'
import { readImageHeader, MAX_IMAGE_PIXELS } from './core/segment/preprocess.ts'
import { IMAGE_SCHEME, IMAGE_VERSION, previewSize } from '../src-preload/contract/images.ts'
import type { ServableImage } from './services/image-service.ts'

export interface ImageSource {
  /**
   * The open project's image with this id, or null (no project, unknown id, file missing, or a
   * `version` from an earlier open of a project: its ids name other images now).
   */
  servableImage(imageId: number, version: string | null): ServableImage | null
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

function plain(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
  })
}

function image(bytes: Buffer, type: string, head: boolean, extra: Record<string, string> = {}): Response {
  // A Blob is a body under both Node's and the DOM's typings (the e2e bridge type-checks this file with DOM).
  return new Response(
    head ? null : new Blob([new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)]),
    {
      status: 200,
      headers: {
        'Content-Type': type,
        'Content-Length': String(bytes.length),
        // The file may be replaced on disk between visits; revalidate rather than trust a cache.
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        // Lets the canvas read pixels of images loaded with crossOrigin (no tainting).
        'Access-Control-Allow-Origin': '*',
        ...extra,
      },
    },
  )
}

/** Full resolution: the file's bytes when Chromium shows the format, else a PNG. */
async function fullImage(file: string): Promise<{ bytes: Buffer; type: string }> {
  const bytes = await readFile(file)
  const type = sniffImageType(bytes)
  if (type !== null) return { bytes, type }
  const png = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, autoOrient: true })
    .png({ compressionLevel: 3 })
    .toBuffer()
  return { bytes: png, type: 'image/png' }
}

async function previewImage(
  target: ServableImage,
  cache: PreviewCache | undefined,
): Promise<{ bytes: Buffer; type: string; width: number; height: number }> {
  const header = await readImageHeader(target.file)
  const size = previewSize(header.width, header.height)
  // BMP: libvips cannot decode it, and Chromium shows it as it is.
  if (!size.downscaled || header.format === 'bmp')
    return { ...(await fullImage(target.file)), width: header.width, height: header.height }
  const info = await stat(target.file)
  const key = `${target.file}|${info.size}|${info.mtimeMs}`
  const hit = cache?.get(key)
  if (hit !== undefined) return { ...hit, width: size.width, height: size.height }
  const resized = sharp(target.file, { limitInputPixels: MAX_IMAGE_PIXELS, autoOrient: true }).resize(
    size.width,
    size.height,
    { fit: 'fill' },
  )
  const bytes = header.hasAlpha
    ? await resized.webp({ quality: 85 }).toBuffer()
    : await resized.jpeg({ quality: 85 }).toBuffer()
  const type = header.hasAlpha ? 'image/webp' : 'image/jpeg'
  cache?.set(key, bytes, type)
  return { bytes, type, width: size.width, height: size.height }
}

/**
 * Answers one sam-image: request. 400 for anything that is not `<scheme>://image|preview/<id>`,
 * 404 for an id that is not an image of the open project (or whose file is gone), 405 for
 * methods other than GET and HEAD, 422 when the file cannot be decoded.
 */
export async function handleImageRequest(
  request: ImageRequest,
  source: ImageSource,
  cache?: PreviewCache,
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, `${request.method} is not allowed`)
  const wanted = parseImageUrl(request.url)
  if (wanted === null)
    return plain(
      400,
      'not an image URL of this app: expected sam-image://image/<id>[?v=<version>] or sam-image://preview/<id>[?v=<version>]',
    )
  const target = source.servableImage(wanted.imageId, wanted.version)
  if (target === null) return plain(404, `no image ${wanted.imageId} in the open project`)
  const head = request.method === 'HEAD'
  try {
    if (wanted.kind === 'image') {
      const full = await fullImage(target.file)
      return image(full.bytes, full.type, head)
    }
    const preview = await previewImage(target, cache)
    return image(preview.bytes, preview.type, head, {
      'X-Image-Width': String(preview.width),
      'X-Image-Height': String(preview.height),
    })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'image-missing') return plain(404, `the file of image ${wanted.imageId} is gone`)
    return plain(
      422,
      `image ${wanted.imageId} cannot be decoded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    )
  }
}
