// Preprocessing: every input kind becomes the contract's encoder tensor in the oriented frame,
// and every bad input gets a clear error naming the file.

import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import sharp, { type Sharp } from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import { PIXEL_MEAN, PIXEL_STD } from '../../src-main/core/segment/model-interface.ts'
import { UserError } from '../../src-main/core/errors.ts'
import { preprocessImage, readImageHeader } from '../../src-main/core/segment/preprocess.ts'

const dir = mkdtempSync(join(tmpdir(), 'sam-preprocess-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const PLANE = 1024 * 1024

/** The RGB the tensor holds at model pixel (x, y), back in 0..255. */
function rgbAt(tensor: Float32Array, x: number, y: number): number[] {
  return [0, 1, 2].map((c) => Math.round((tensor[c * PLANE + y * 1024 + x] * PIXEL_STD[c] + PIXEL_MEAN[c]) * 255))
}

/** A w x h RGB image, grey, with a red block in its top-left quarter. */
function markerRaw(w: number, h: number): Buffer {
  const buf = Buffer.alloc(w * h * 3, 128)
  for (let y = 0; y < h / 2; y++) for (let x = 0; x < w / 2; x++) buf.set([230, 20, 20], (y * w + x) * 3)
  return buf
}

async function write(name: string, img: Sharp): Promise<string> {
  const file = join(dir, name)
  await img.toFile(file)
  return file
}

function crc32(buf: Buffer): number {
  let c = ~0
  for (const b of buf) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
  }
  return ~c >>> 0
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/** A PNG whose header claims w x h; its pixel data is a stub, never decoded if the check works. */
function hugePng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(16))),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

describe('preprocess', () => {
  it('produces exactly the normalised NCHW tensor of the contract', async () => {
    const file = await write(
      'flat.png',
      sharp({ create: { width: 1024, height: 1024, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png(),
    )
    const { tensor, width, height } = await preprocessImage(file)
    expect([width, height]).toEqual([1024, 1024])
    expect(tensor.length).toBe(3 * PLANE)
    const rgb = [10, 200, 30]
    for (let c = 0; c < 3; c++) {
      const want = (rgb[c] / 255 - PIXEL_MEAN[c]) / PIXEL_STD[c]
      expect(tensor[c * PLANE]).toBeCloseTo(want, 5)
      expect(tensor[c * PLANE + PLANE - 1]).toBeCloseTo(want, 5)
    }
  })

  it('stretches (does not pad) a non-square image to 1024x1024', async () => {
    const file = await write(
      'wide.png',
      sharp(markerRaw(600, 200), { raw: { width: 600, height: 200, channels: 3 } }).png(),
    )
    const { tensor, width, height } = await preprocessImage(file)
    expect([width, height]).toEqual([600, 200])
    // The red quarter covers the top-left quarter of the model input, not a letterboxed part.
    expect(rgbAt(tensor, 250, 250)[0]).toBeGreaterThan(200)
    expect(rgbAt(tensor, 770, 250)[0]).toBeLessThan(140)
    expect(rgbAt(tensor, 250, 770)[0]).toBeLessThan(140)
  })

  it('applies EXIF orientation: sizes and pixels are in the oriented frame', async () => {
    // Stored 300x200 with the red block top-left; orientation 6 means "rotate 90° clockwise to
    // display", so the viewer sees 200x300 with the block top-right.
    const file = await write(
      'exif6.jpg',
      sharp(markerRaw(300, 200), { raw: { width: 300, height: 200, channels: 3 } })
        .jpeg()
        .withMetadata({ orientation: 6 }),
    )
    const header = await readImageHeader(file)
    expect(header.orientation).toBe(6)
    expect([header.width, header.height]).toEqual([200, 300])
    const { tensor, width, height } = await preprocessImage(file)
    expect([width, height]).toEqual([200, 300])
    expect(rgbAt(tensor, 800, 200)[0]).toBeGreaterThan(200)
    expect(rgbAt(tensor, 200, 200)[0]).toBeLessThan(140)
  })

  it('accepts 16-bit, grey, RGBA (alpha dropped), palette and CMYK input', async () => {
    const raw = markerRaw(256, 256)
    const base = () => sharp(raw, { raw: { width: 256, height: 256, channels: 3 } })
    const ref = (await preprocessImage(await write('ref.png', base().png()))).tensor

    const sixteen = await write('16bit.png', base().toColourspace('rgb16').png())
    expect((await readImageHeader(sixteen)).depth).toBe('ushort')
    const t16 = (await preprocessImage(sixteen)).tensor
    expect(rgbAt(t16, 100, 100)).toEqual(rgbAt(ref, 100, 100))

    const grey = (await preprocessImage(await write('grey.png', base().toColourspace('b-w').png()))).tensor
    const g = rgbAt(grey, 100, 100)
    expect(g[0]).toBe(g[1])
    expect(g[1]).toBe(g[2])

    // Alpha 0 everywhere: dropping alpha keeps the RGB underneath (as PIL's convert('RGB')).
    const rgba = Buffer.alloc(256 * 256 * 4)
    for (let i = 0; i < 256 * 256; i++) rgba.set([200, 50, 60, 0], i * 4)
    const ta = (
      await preprocessImage(
        await write('rgba.png', sharp(rgba, { raw: { width: 256, height: 256, channels: 4 } }).png()),
      )
    ).tensor
    expect(rgbAt(ta, 500, 500)).toEqual([200, 50, 60])

    const palette = (await preprocessImage(await write('palette.png', base().png({ palette: true, colours: 8 }))))
      .tensor
    expect(rgbAt(palette, 100, 100)[0]).toBeGreaterThan(200)

    const cmykFile = await write('cmyk.jpg', base().toColourspace('cmyk').jpeg())
    expect((await readImageHeader(cmykFile)).space).toBe('cmyk')
    const tc = (await preprocessImage(cmykFile)).tensor
    const red = rgbAt(tc, 100, 100)
    expect(red[0]).toBeGreaterThan(180)
    expect(red[1]).toBeLessThan(90)
  })

  it('reads every common format sharp reads', async () => {
    const base = () => sharp(markerRaw(320, 240), { raw: { width: 320, height: 240, channels: 3 } })
    const formats: [string, (s: Sharp) => Sharp][] = [
      ['a.jpg', (s) => s.jpeg()],
      ['a.png', (s) => s.png()],
      ['a.webp', (s) => s.webp({ lossless: true })],
      ['a.tiff', (s) => s.tiff()],
      ['a.gif', (s) => s.gif()],
      ['a.avif', (s) => s.avif({ quality: 90 })],
    ]
    for (const [name, fmt] of formats) {
      const { tensor, width, height } = await preprocessImage(await write(name, fmt(base())))
      expect([name, width, height]).toEqual([name, 320, 240])
      expect(rgbAt(tensor, 200, 200)[0]).toBeGreaterThan(180)
      expect(rgbAt(tensor, 800, 800)[0]).toBeLessThan(150)
    }
  })

  it('reads uncompressed BMP (24-bit bottom-up, 8-bit palette, 32-bit top-down with bit fields), which libvips cannot', async () => {
    const w = 37 // odd width: rows are padded to 4 bytes
    const h = 23
    const raw = markerRaw(w, h)
    const ref = (
      await preprocessImage(await write('bmp-ref.png', sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png()))
    ).tensor
    const header = (bpp: number, compression: number, height: number, extra: Buffer, paletteCount = 0): Buffer => {
      const b = Buffer.alloc(54)
      b.write('BM', 0, 'ascii')
      const stride = Math.ceil((w * bpp) / 32) * 4
      const offset = 54 + extra.length
      b.writeUInt32LE(offset + stride * h, 2)
      b.writeUInt32LE(offset, 10)
      b.writeUInt32LE(40, 14)
      b.writeInt32LE(w, 18)
      b.writeInt32LE(height, 22)
      b.writeUInt16LE(1, 26)
      b.writeUInt16LE(bpp, 28)
      b.writeUInt32LE(compression, 30)
      b.writeUInt32LE(paletteCount, 46)
      return Buffer.concat([b, extra])
    }
    const rows = (
      bpp: number,
      topDown: boolean,
      pixel: (x: number, y: number, out: Buffer, at: number) => void,
    ): Buffer => {
      const stride = Math.ceil((w * bpp) / 32) * 4
      const data = Buffer.alloc(stride * h)
      for (let y = 0; y < h; y++) {
        const row = (topDown ? y : h - 1 - y) * stride
        for (let x = 0; x < w; x++) pixel(x, y, data, row + (x * bpp) / 8)
      }
      return data
    }
    const px = (x: number, y: number) => raw.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)
    const bmp24 = Buffer.concat([
      header(24, 0, h, Buffer.alloc(0)),
      rows(24, false, (x, y, out, at) => out.set([px(x, y)[2], px(x, y)[1], px(x, y)[0]], at)),
    ])
    const palette = Buffer.from([128, 128, 128, 0, 20, 20, 230, 0]) // BGRX: grey, red
    const bmp8 = Buffer.concat([
      header(8, 0, h, palette, 2),
      rows(8, false, (x, y, out, at) => (out[at] = px(x, y)[0] === 230 ? 1 : 0)),
    ])
    const masks = Buffer.alloc(12)
    masks.writeUInt32LE(0x000000ff, 0) // red in the low byte: not the default order
    masks.writeUInt32LE(0x0000ff00, 4)
    masks.writeUInt32LE(0x00ff0000, 8)
    const bmp32 = Buffer.concat([
      header(32, 3, -h, masks),
      rows(32, true, (x, y, out, at) => out.writeUInt32LE(px(x, y)[0] | (px(x, y)[1] << 8) | (px(x, y)[2] << 16), at)),
    ])
    for (const [name, bytes] of [
      ['a24.bmp', bmp24],
      ['a8.bmp', bmp8],
      ['a32.bmp', bmp32],
    ] as const) {
      const file = join(dir, name)
      writeFileSync(file, bytes)
      const header = await readImageHeader(file)
      expect([name, header.format, header.width, header.height]).toEqual([name, 'bmp', w, h])
      const { tensor } = await preprocessImage(file)
      expect(Array.from(tensor.subarray(0, 4096))).toEqual(Array.from(ref.subarray(0, 4096)))
      expect(rgbAt(tensor, 100, 100)).toEqual(rgbAt(ref, 100, 100))
      expect(rgbAt(tensor, 900, 900)).toEqual(rgbAt(ref, 900, 900))
    }
    const rle = Buffer.from(bmp8)
    rle.writeUInt32LE(1, 30) // BI_RLE8
    writeFileSync(join(dir, 'rle.bmp'), rle)
    await expect(preprocessImage(join(dir, 'rle.bmp'))).rejects.toThrow(/rle\.bmp: compressed BMP/)
    writeFileSync(join(dir, 'cut.bmp'), bmp24.subarray(0, 200))
    await expect(preprocessImage(join(dir, 'cut.bmp'))).rejects.toThrow(/cut\.bmp: truncated BMP/)
  })

  it('refuses absurd sizes from the header, before decoding', async () => {
    // hugePng writes a valid header and 16 bytes of pixel data, so decoding any such file
    // fails: shown on a small one, whose header reads fine. A refusal that names the huge
    // one's size therefore came from its header, before any decoding was tried. (How fast the
    // refusal is, is a figure of `npm run bench -- engine`.)
    const small = join(dir, 'no-pixels.png')
    writeFileSync(small, hugePng(300, 200))
    expect(await readImageHeader(small)).toMatchObject({ width: 300, height: 200, format: 'png' })
    await expect(preprocessImage(small)).rejects.toThrow(/no-pixels\.png: cannot read image/)
    const file = join(dir, 'huge.png')
    writeFileSync(file, hugePng(30000, 20000))
    await expect(preprocessImage(file)).rejects.toThrow(/huge\.png: 30000x20000 is 600 MP, more than the 250 MP/)
    await expect(readImageHeader(file)).rejects.toBeInstanceOf(UserError)
  })

  it('gives a clear error naming the file for missing, empty, non-image and truncated files', async () => {
    await expect(preprocessImage(join(dir, 'missing.png'))).rejects.toThrow(/missing\.png: file not found/)
    await expect(preprocessImage(join(dir, 'missing-folder', 'a.png'))).rejects.toThrow(
      /missing-folder\/a\.png: file not found/,
    )
    await expect(preprocessImage(dir)).rejects.toThrow(
      new UserError('image-unreadable', `${dir}: not a file (it is a folder)`),
    )
    writeFileSync(join(dir, 'empty.jpg'), '')
    await expect(preprocessImage(join(dir, 'empty.jpg'))).rejects.toThrow(/empty\.jpg: empty file/)
    writeFileSync(join(dir, 'text.jpg'), 'hello, I am not an image\n')
    await expect(preprocessImage(join(dir, 'text.jpg'))).rejects.toThrow(/text\.jpg: .*(format|read)/)
    const jpeg = readFileSync(
      await write('full.jpg', sharp(markerRaw(640, 480), { raw: { width: 640, height: 480, channels: 3 } }).jpeg()),
    )
    writeFileSync(join(dir, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1))
    const err = await preprocessImage(join(dir, 'truncated.jpg')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect((err as Error).message).toMatch(/truncated\.jpg/)
  })
})
