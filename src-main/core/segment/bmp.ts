// Windows BMP reading. libvips (and so sharp) has no BMP loader, yet BMP datasets are common
// (older microscopy, industrial cameras), so the engine decodes the uncompressed kinds here and
// hands sharp raw pixels. Covered: BITMAPCOREHEADER, BITMAPINFOHEADER and the V4/V5 headers;
// 1/4/8-bit palette, 16-bit (5-5-5 or bit fields), 24-bit, 32-bit (with or without bit fields);
// bottom-up and top-down rows. RLE-compressed BMPs are refused with a clear error.

import { UserError } from '../errors.ts'

export interface BmpHeader {
  width: number
  height: number
  bitsPerPixel: number
  compression: number
  topDown: boolean
  dataOffset: number
  headerSize: number
  masks: [number, number, number, number] | null
  paletteSize: number
}

const BI_RGB = 0
const BI_BITFIELDS = 3
const BI_ALPHABITFIELDS = 6

export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= 26 && buf[0] === 0x42 && buf[1] === 0x4d
}

function fail(what: string, message: string): never {
  throw new UserError('image-unreadable', `${what}: ${message}`)
}

export function readBmpHeader(buf: Buffer, what = '<image buffer>'): BmpHeader {
  if (!isBmp(buf)) fail(what, 'not a BMP file')
  const dataOffset = buf.readUInt32LE(10)
  const headerSize = buf.readUInt32LE(14)
  let width: number
  let rawHeight: number
  let bitsPerPixel: number
  let compression = BI_RGB
  let paletteSize = 0
  if (headerSize === 12) {
    width = buf.readUInt16LE(18)
    rawHeight = buf.readUInt16LE(20)
    bitsPerPixel = buf.readUInt16LE(24)
  } else if (headerSize >= 40 && buf.length >= 14 + 40) {
    width = buf.readInt32LE(18)
    rawHeight = buf.readInt32LE(22)
    bitsPerPixel = buf.readUInt16LE(28)
    compression = buf.readUInt32LE(30)
    paletteSize = buf.readUInt32LE(46)
  } else {
    fail(what, `unsupported BMP header size ${headerSize}`)
  }
  let masks: BmpHeader['masks'] = null
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    // Masks follow a 40-byte header, or sit inside the V4/V5 header at the same place.
    const at = 14 + 40
    if (buf.length < at + 12) fail(what, 'truncated BMP header')
    const alpha = headerSize >= 56 || compression === BI_ALPHABITFIELDS ? buf.readUInt32LE(at + 12) : 0
    masks = [buf.readUInt32LE(at), buf.readUInt32LE(at + 4), buf.readUInt32LE(at + 8), alpha]
  } else if (compression !== BI_RGB) {
    fail(what, `compressed BMP (compression ${compression}) is not supported; save it as PNG`)
  }
  if (width <= 0 || rawHeight === 0) fail(what, `BMP has no size (${width}x${rawHeight})`)
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel))
    fail(what, `BMP with ${bitsPerPixel} bits per pixel is not supported`)
  return {
    width,
    height: Math.abs(rawHeight),
    bitsPerPixel,
    compression,
    topDown: rawHeight < 0,
    dataOffset,
    headerSize,
    masks,
    paletteSize,
  }
}

/** Shift and scale that turn a channel mask's bits into 0..255. */
function maskReader(mask: number): (v: number) => number {
  if (mask === 0) return () => 255
  let shift = 0
  while (((mask >>> shift) & 1) === 0) shift++
  const max = mask >>> shift
  return (v) => Math.round((((v & mask) >>> shift) * 255) / max)
}

/** Decodes an uncompressed BMP to 8-bit RGB, top row first. */
export function decodeBmp(buf: Buffer, what = '<image buffer>'): { data: Buffer; width: number; height: number } {
  const h = readBmpHeader(buf, what)
  const { width, height, bitsPerPixel: bpp } = h
  const stride = Math.ceil((width * bpp) / 32) * 4
  if (h.dataOffset + stride * height > buf.length)
    fail(what, 'truncated BMP: the pixel data is shorter than its header says')
  const out = Buffer.alloc(width * height * 3)

  let palette: Uint8Array | null = null
  if (bpp <= 8) {
    const entry = h.headerSize === 12 ? 3 : 4
    const count = h.paletteSize || 1 << bpp
    const start = 14 + h.headerSize
    palette = new Uint8Array(256 * 3)
    for (let i = 0; i < Math.min(count, 256); i++) {
      const at = start + i * entry
      if (at + 3 > buf.length) break
      palette[i * 3] = buf[at + 2]
      palette[i * 3 + 1] = buf[at + 1]
      palette[i * 3 + 2] = buf[at]
    }
  }
  const masks = h.masks ?? (bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0x00ff0000, 0x0000ff00, 0x000000ff, 0])
  const [rOf, gOf, bOf] = masks.map(maskReader)

  for (let y = 0; y < height; y++) {
    const row = h.dataOffset + (h.topDown ? y : height - 1 - y) * stride
    let o = y * width * 3
    for (let x = 0; x < width; x++, o += 3) {
      if (palette) {
        const bit = x * bpp
        const byte = buf[row + (bit >> 3)]
        const index = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1)
        out[o] = palette[index * 3]
        out[o + 1] = palette[index * 3 + 1]
        out[o + 2] = palette[index * 3 + 2]
      } else if (bpp === 24) {
        const at = row + x * 3
        out[o] = buf[at + 2]
        out[o + 1] = buf[at + 1]
        out[o + 2] = buf[at]
      } else {
        const v = bpp === 16 ? buf.readUInt16LE(row + x * 2) : buf.readUInt32LE(row + x * 4)
        out[o] = rOf(v)
        out[o + 1] = gOf(v)
        out[o + 2] = bOf(v)
      }
    }
  }
  return { data: out, width, height }
}
