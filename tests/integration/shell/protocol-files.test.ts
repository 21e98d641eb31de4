// The sam-image: protocol against hostile or changed files on disk: a symlinked text file the
// header read refused, a 1.5 GB image (sparse, so it costs no disk) that must not be read whole
// into main, a FIFO and a folder put where an image was, a file replaced after the scan, and a
// legitimate link to an image outside the project that must keep working. Real files, a real
// project; nothing mocked.
import { execFileSync } from 'node:child_process'
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../../src-main/core/segment/engine.ts'
import { handleImageRequest, MAX_DECODE_BYTES, PreviewCache } from '../../../src-main/image-protocol.ts'
import { imageUrl, type ImagePage } from '../../../src-preload/contract/images.ts'
import { openDemoEngine, startShell, type Shell } from './fixture.ts'

const HUGE_BYTES = 1.5e9
const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82])

/** Descriptors this process holds open on `file` (Linux: /proc/self/fd). */
function openDescriptors(file: string): number {
  let count = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) count++
    } catch {
      // closed between listing and reading the link
    }
  }
  return count
}

/** A file of `size` bytes that starts with `head` and ends with `tail`, sparse in between. */
function sparseFile(file: string, head: Buffer, size: number, tail: Buffer = Buffer.alloc(0)): void {
  writeFileSync(file, head)
  truncateSync(file, size)
  if (tail.length > 0) {
    const fd = openSync(file, 'r+')
    try {
      writeSync(fd, tail, 0, tail.length, size - tail.length)
    } finally {
      closeSync(fd)
    }
  }
}

describe.skipIf(process.platform !== 'linux')('sam-image: protocol on hostile and changed files', () => {
  let engine: Promise<Engine>
  let shell: Shell
  let dir: string
  let outside: string
  const ids = new Map<string, number>()
  const cache = new PreviewCache()
  const get = (url: string, method = 'GET') => handleImageRequest({ url, method }, shell.app.images, cache)
  const idOf = (path: string): number => ids.get(path) ?? -1
  const bytes = new Map<string, Buffer>()

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sam-protocol-files-'))
    outside = mkdtempSync(join(tmpdir(), 'sam-protocol-outside-'))
    const png = await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 200, g: 30, b: 30 } } })
      .png()
      .toBuffer()
    const jpeg = await sharp({ create: { width: 70, height: 50, channels: 3, background: { r: 20, g: 90, b: 160 } } })
      .jpeg()
      .toBuffer()
    for (const name of ['a-plain.png', 'b-replaced.png', 'c-fifo.png', 'd-folder.png']) {
      writeFileSync(join(dir, name), png)
      bytes.set(name, png)
    }
    // A text file that starts like a GIF, linked into the project from outside: the header read
    // takes "~~~~" as a 32382x32382 GIF and records that it is too large.
    writeFileSync(join(outside, 'notes.txt'), 'GIF89a~~~~ release notes: nothing here is an image.\n')
    symlinkSync(join(outside, 'notes.txt'), join(dir, 'e-notes.gif'))
    // A real image kept outside the project and linked in: links like this are how datasets are shared.
    writeFileSync(join(outside, 'photo.jpg'), jpeg)
    bytes.set('f-linked.jpg', jpeg)
    symlinkSync(join(outside, 'photo.jpg'), join(dir, 'f-linked.jpg'))
    // 4000x3000 PNG whose data is followed by 1.5 GB of (sparse) zeros and its IEND: the header
    // read accepts it (IHDR parsed, IEND present), so only the protocol stands between it and RAM.
    const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toBuffer()
    sparseFile(join(dir, 'g-huge.png'), big.subarray(0, big.length - IEND.length), HUGE_BYTES, IEND)
    // A TIFF (converted by sharp, never passed through) padded to 1.5 GB the same way.
    const tiff = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .tiff()
      .toBuffer()
    sparseFile(join(dir, 'h-huge.tif'), tiff, HUGE_BYTES)

    engine = openDemoEngine()
    shell = startShell(engine)
    shell.dialogs.folders.push(dir)
    await shell.value('annot:project.openDialog')
    await shell.app.projects.project?.readPendingHeaders()
    for (const image of (await shell.value<ImagePage>('annot:images.list')).images) ids.set(image.path, image.id)
  })

  afterAll(async () => {
    // Had a handler opened the FIFO blocking, a writer's open releases it (it then reads EOF).
    try {
      closeSync(openSync(join(dir, 'c-fifo.png'), constants.O_WRONLY | constants.O_NONBLOCK))
    } catch {
      // ENXIO: nobody is reading it, as it should be
    }
    await shell.dispose()
    await (await engine).close()
    rmSync(dir, { recursive: true, force: true })
    rmSync(outside, { recursive: true, force: true })
  })

  it('still serves a plain image, its preview and a linked image from outside the project, byte for byte', async () => {
    for (const [path, type] of [
      ['a-plain.png', 'image/png'],
      ['f-linked.jpg', 'image/jpeg'],
    ] as const) {
      for (const kind of ['image', 'preview'] as const) {
        const response = await get(imageUrl(kind, idOf(path)))
        expect(response.status, `${kind} ${path}`).toBe(200)
        expect(response.headers.get('content-type')).toBe(type)
        expect(response.headers.get('content-length')).toBe(String(bytes.get(path)?.length))
        expect(Buffer.from(await response.arrayBuffer()).equals(bytes.get(path) as Buffer)).toBe(true)
      }
    }
    expect(openDescriptors(join(dir, 'a-plain.png'))).toBe(0)
  })

  it('refuses a symlinked text file that starts with GIF89a: the header read refused it', async () => {
    for (const kind of ['image', 'preview'] as const) {
      const response = await get(imageUrl(kind, idOf('e-notes.gif')))
      expect(response.status, kind).toBe(422)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(await response.text()).toMatch(/cannot be shown: .*MP, more than/)
    }
  })

  it('streams a 1.5 GB image without reading it into memory, and closes the file when the reader cancels', async () => {
    const file = join(dir, 'g-huge.png')
    const before = process.memoryUsage().rss
    const response = await get(imageUrl('image', idOf('g-huge.png')))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/png')
    expect(response.headers.get('content-length')).toBe(String(HUGE_BYTES))
    // Read the first 8 MB, as a renderer would before navigating away, then abort.
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let received = 0
    while (received < 8 * 2 ** 20) {
      const chunk = await reader.read()
      if (chunk.done) break
      received += chunk.value.length
    }
    expect(received).toBeGreaterThanOrEqual(8 * 2 ** 20)
    await reader.cancel()
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(openDescriptors(file)).toBe(0)
    // HEAD gives the length and holds nothing open.
    const head = await get(imageUrl('image', idOf('g-huge.png')), 'HEAD')
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, String(HUGE_BYTES), ''])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(openDescriptors(file)).toBe(0)
  })

  it('refuses to decode a 1.5 GB file (a downscaled preview, a TIFF conversion) before reading it', async () => {
    const before = process.memoryUsage().rss
    for (const url of [imageUrl('preview', idOf('g-huge.png')), imageUrl('image', idOf('h-huge.tif'))]) {
      const response = await get(url)
      expect(response.status, url).toBe(422)
      expect(await response.text()).toContain(`more than the ${MAX_DECODE_BYTES / 2 ** 20} MB this app decodes at once`)
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20)
    // Nothing stays open. (The project's embedding prefetch may be hashing the huge file in the
    // background, a chunk at a time; a descriptor the protocol leaked would never close.)
    await expect
      .poll(() => openDescriptors(join(dir, 'g-huge.png')) + openDescriptors(join(dir, 'h-huge.tif')), {
        timeout: 20_000,
      })
      .toBe(0)
  })

  it('answers an error, at once, for a FIFO or a folder put where an image was after the scan', async () => {
    const fifo = join(dir, 'c-fifo.png')
    unlinkSync(fifo)
    execFileSync('mkfifo', [fifo])
    const folder = join(dir, 'd-folder.png')
    unlinkSync(folder)
    mkdirSync(folder)
    for (const [path, kind] of [
      ['c-fifo.png', 'a FIFO'],
      ['d-folder.png', 'a folder'],
    ] as const) {
      for (const url of [imageUrl('image', idOf(path)), imageUrl('preview', idOf(path))]) {
        const response = await get(url)
        expect(response.status, url).toBe(422)
        expect(await response.text()).toContain(`is not a regular file (it is ${kind})`)
      }
    }
    expect(openDescriptors(fifo)).toBe(0)
  }, 15_000)

  it('refuses a file whose content is no longer the image that was scanned, never serving it raw', async () => {
    const file = join(dir, 'b-replaced.png')
    const size = (bytes.get('b-replaced.png') as Buffer).length
    // Same size, so only the content tells: text that starts like a GIF.
    const text = Buffer.alloc(size, 0x20)
    text.write('GIF89a\x10\x00\x10\x00 this replaced the PNG after the scan')
    writeFileSync(file, text)
    for (const kind of ['image', 'preview'] as const) {
      const response = await get(imageUrl(kind, idOf('b-replaced.png')))
      expect(response.status, kind).toBe(409)
      expect(await response.text()).toMatch(/changed since it was scanned: it was 120x90, its header says 16x16 now/)
    }
    // Text with no image signature at all, same size again.
    writeFileSync(file, Buffer.alloc(size, 0x41))
    const plain = await get(imageUrl('image', idOf('b-replaced.png')))
    expect(plain.status).toBe(409)
    expect(await plain.text()).toMatch(/not an image format this app reads/)
    // A different size: changed too, whatever it holds.
    writeFileSync(file, Buffer.concat([bytes.get('b-replaced.png') as Buffer, Buffer.from('trailer')]))
    const grown = await get(imageUrl('image', idOf('b-replaced.png')))
    expect(grown.status).toBe(409)
    expect(await grown.text()).toMatch(/rescan the folder/)
  })
})
