// Turns an image file into the SAM 2.1 encoder tensor, exactly as the model interface says: EXIF
// orientation applied, 8-bit sRGB RGB, stretched (not padded) to 1024x1024 with an antialiased
// filter, divided by 255, normalised by ImageNet mean/std, NCHW float32.
//
// Input handling, decided here once for every caller:
// - Alpha is dropped, not composited: upstream SAM reads images with PIL `convert("RGB")`,
//   which drops alpha, so masks match what the reference predictor would produce.
// - Grey, CMYK (with its ICC profile when present), 16-bit and palette images are converted to
//   8-bit sRGB by libvips. Multi-page files (GIF, TIFF) use their first page.
// - BMP, which libvips cannot read, is decoded by bmp.ts and handed over as raw pixels.
// - Sizes are checked from the header before any pixel is decoded, so a 40,000 x 40,000 image
//   is refused with a clear error instead of exhausting memory.

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import sharp, { type Metadata } from 'sharp'
import { UserError } from '../errors.ts'
import { decodeBmp, isBmp, readBmpHeader } from './bmp.ts'
import { MODEL_SIZE, PIXEL_MEAN, PIXEL_STD } from './model-interface.ts'
import { sharedFloat32 } from '../shared-arrays.ts'
import { checkRegion, regionHeight, regionWidth, type Region } from './region.ts'

/** Default ceiling: above this many pixels an image is refused (about a 20,000 x 12,500 photo). */
export const MAX_IMAGE_PIXELS = 250_000_000

export interface ImageHeader {
  /** Width and height after EXIF orientation: the frame all coordinates are in. */
  width: number
  height: number
  format: string
  /** EXIF orientation tag (1 when absent). */
  orientation: number
  channels: number
  /** libvips band format, e.g. 'uchar' (8-bit) or 'ushort' (16-bit). */
  depth: string
  space: string
  hasAlpha: boolean
}

export interface PreparedImage {
  /** The whole image's size (after EXIF orientation), also when only a region was prepared. */
  width: number
  height: number
  /** The region the tensor shows (region.ts); absent: the whole image. */
  region?: Region | null
  /** [1,3,1024,1024] float32, normalised. */
  tensor: Float32Array
}

function describeInput(input: string | Buffer): string {
  return typeof input === 'string' ? input : '<image buffer>'
}

function sharpError(input: string | Buffer, err: unknown): UserError {
  const what = describeInput(input)
  const msg = ((err as Error)?.message ?? String(err)).split('\n')[0]
  if (/unsupported image format/i.test(msg)) {
    return new UserError('image-unreadable', `${what}: not an image format that can be read (${msg})`, { cause: err })
  }
  return new UserError('image-unreadable', `${what}: cannot read image (${msg})`, { cause: err })
}

/** A file-system failure on an image as one line naming the file, by its errno code. */
function fileError(file: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOENT') return new UserError('image-missing', `${file}: file not found`, { cause: err })
  if (code === 'ENOTDIR')
    return new UserError('image-missing', `${file}: file not found (a folder on the path is a file)`, { cause: err })
  if (code === 'EACCES' || code === 'EPERM')
    return new UserError('image-unreadable', `${file}: permission denied (cannot read the file)`, { cause: err })
  if (code === 'EISDIR')
    return new UserError('image-unreadable', `${file}: not a file (it is a folder)`, { cause: err })
  if (code === 'ENAMETOOLONG') return new UserError('image-missing', `${file}: file name too long`, { cause: err })
  return new UserError(
    'image-unreadable',
    `${file}: cannot read the file (${code ?? (err as Error)?.message ?? String(err)})`,
    { cause: err },
  )
}

function checkFile(input: string | Buffer): void {
  if (typeof input !== 'string') {
    if (input.length === 0) throw new UserError('image-unreadable', '<image buffer>: empty')
    return
  }
  let st
  try {
    st = statSync(input)
  } catch (err) {
    throw fileError(input, err)
  }
  if (st.isDirectory()) throw new UserError('image-unreadable', `${input}: not a file (it is a folder)`)
  if (!st.isFile()) throw new UserError('image-unreadable', `${input}: not a file`)
  if (st.size === 0) throw new UserError('image-unreadable', `${input}: empty file (0 bytes)`)
}

function readHead(file: string, bytes: number): Buffer {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (err) {
    // stat (checkFile) succeeds on a file without read permission: this open is where it shows.
    throw fileError(file, err)
  }
  try {
    const buf = Buffer.alloc(bytes)
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0))
  } finally {
    closeSync(fd)
  }
}

function readWhole(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw fileError(file, err)
  }
}

/** Reads the header only (no pixel decoding): oriented size, format, depth. */
export async function readImageHeader(input: string | Buffer, maxPixels = MAX_IMAGE_PIXELS): Promise<ImageHeader> {
  checkFile(input)
  let meta: Metadata
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata()
  } catch (err) {
    const head = typeof input === 'string' ? readHead(input, 256) : input.subarray(0, 256)
    if (!isBmp(head)) throw sharpError(input, err)
    // libvips has no BMP loader: read the header ourselves (no orientation in BMP).
    const bmp = readBmpHeader(head, describeInput(input))
    meta = {
      width: bmp.width,
      height: bmp.height,
      format: 'bmp' as Metadata['format'],
      channels: 3,
      depth: 'uchar',
      space: 'srgb',
      hasAlpha: false,
    } as Metadata
  }
  const w = meta.width
  const h = meta.height
  if (!w || !h) throw new UserError('image-unreadable', `${describeInput(input)}: image has no size in its header`)
  if (w * h > maxPixels) {
    throw new UserError(
      'image-too-large',
      `${describeInput(input)}: ${w}x${h} is ${((w * h) / 1e6).toFixed(0)} MP, more than the ${(maxPixels / 1e6).toFixed(0)} MP this app accepts`,
    )
  }
  const orientation = meta.orientation ?? 1
  const swap = orientation >= 5 && orientation <= 8
  return {
    width: swap ? h : w,
    height: swap ? w : h,
    format: meta.format ?? 'unknown',
    orientation,
    channels: meta.channels ?? 0,
    depth: meta.depth ?? 'unknown',
    space: meta.space ?? 'unknown',
    hasAlpha: meta.hasAlpha ?? false,
  }
}

// Per channel, a 256-entry table from 8-bit value to normalised float: the normalisation is
// then one lookup per sample.
const LUTS: Float32Array[] = [0, 1, 2].map((c) => {
  const lut = new Float32Array(256)
  for (let v = 0; v < 256; v++) lut[v] = (v / 255 - PIXEL_MEAN[c]) / PIXEL_STD[c]
  return lut
})

/** HWC 8-bit RGB (1024x1024) to normalised NCHW float32. */
export function toEncoderTensor(
  rgb: Uint8Array | Buffer,
  // Shared: the app hands it to the encoder's worker thread without a copy.
  out = sharedFloat32(3 * MODEL_SIZE * MODEL_SIZE),
): Float32Array {
  const plane = MODEL_SIZE * MODEL_SIZE
  if (rgb.length !== plane * 3) throw new Error(`expected ${plane * 3} RGB bytes, got ${rgb.length}`)
  const [l0, l1, l2] = LUTS
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[i] = l0[rgb[j]]
    out[plane + i] = l1[rgb[j + 1]]
    out[2 * plane + i] = l2[rgb[j + 2]]
  }
  return out
}

/**
 * Decodes, orients and resizes an image into the encoder tensor. Reads the header first so an
 * absurd size is refused before decoding.
 */
export async function preprocessImage(
  input: string | Buffer,
  maxPixels = MAX_IMAGE_PIXELS,
  region: Region | null = null,
): Promise<PreparedImage & { header: ImageHeader }> {
  const header = await readImageHeader(input, maxPixels)
  if (region) checkRegion(region, header.width, header.height)
  let data: Buffer
  try {
    let source = sharp(input, { limitInputPixels: maxPixels, autoOrient: true })
    if ((header.format as string) === 'bmp') {
      const bmp = decodeBmp(typeof input === 'string' ? readWhole(input) : input, describeInput(input))
      source = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } })
    } else if (header.hasAlpha) {
      // libvips resizes premultiplied, so alpha would darken the colour even after
      // removeAlpha(); drop it in a first pass at full size (only images with alpha pay this).
      const flat = await source
        .removeAlpha()
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true })
      source = sharp(flat.data, {
        raw: { width: flat.info.width, height: flat.info.height, channels: flat.info.channels },
      })
    }
    source = source.removeAlpha().toColourspace('srgb')
    // Cut before the resize (sharp orders extract-then-resize that way), in oriented pixels.
    if (region)
      source = source.extract({
        left: region.x0,
        top: region.y0,
        width: regionWidth(region),
        height: regionHeight(region),
      })
    const result = await source
      // Linear (triangle) filter, scaled by the reduction factor: the antialiased bilinear
      // resize torchvision applies upstream.
      .resize(MODEL_SIZE, MODEL_SIZE, { fit: 'fill', kernel: 'linear' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    if (result.info.channels !== 3) {
      throw new UserError(
        'image-unreadable',
        `${describeInput(input)}: expected 3 colour channels after conversion, got ${result.info.channels}`,
      )
    }
    data = result.data
  } catch (err) {
    if (err instanceof UserError) throw err
    throw sharpError(input, err)
  }
  return { width: header.width, height: header.height, region, tensor: toEncoderTensor(data), header }
}

/** An image decoded once to 8-bit sRGB RGB (oriented, alpha dropped): regions are cut from it. */
export interface DecodedImage {
  width: number
  height: number
  rgb: Buffer
}

/**
 * Decodes the whole image to RGB pixels as preprocessImage reads them, for callers that
 * prepare many regions of one image (the click simulator: one region per object).
 */
export async function decodeImage(input: string | Buffer, maxPixels = MAX_IMAGE_PIXELS): Promise<DecodedImage> {
  const header = await readImageHeader(input, maxPixels)
  try {
    let source = sharp(input, { limitInputPixels: maxPixels, autoOrient: true })
    if ((header.format as string) === 'bmp') {
      const bmp = decodeBmp(typeof input === 'string' ? readWhole(input) : input, describeInput(input))
      source = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } })
    }
    const out = await source
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    if (out.info.channels !== 3)
      throw new UserError('image-unreadable', `${describeInput(input)}: expected 3 colour channels after conversion`)
    return { width: out.info.width, height: out.info.height, rgb: out.data }
  } catch (err) {
    if (err instanceof UserError) throw err
    throw sharpError(input, err)
  }
}

/** The encoder tensor of a region (null: the whole image) of a decoded image. */
export async function prepareDecoded(image: DecodedImage, region: Region | null): Promise<PreparedImage> {
  if (region) checkRegion(region, image.width, image.height)
  let source = sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
  if (region)
    source = source.extract({
      left: region.x0,
      top: region.y0,
      width: regionWidth(region),
      height: regionHeight(region),
    })
  const data = await source.resize(MODEL_SIZE, MODEL_SIZE, { fit: 'fill', kernel: 'linear' }).raw().toBuffer()
  return { width: image.width, height: image.height, region, tensor: toEncoderTensor(data) }
}
