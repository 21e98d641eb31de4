// The sam-image: protocol over a real open project: images by id with the right content type,
// TIFF converted, a large rotated image previewed at the promised size, and refusals for ids
// outside the project, traversal and malformed URLs, other methods, vanished and broken files.
import { rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../../src-main/core/segment/engine.ts'
import { handleImageRequest, parseImageUrl, PreviewCache, sniffImageType } from '../../../src-main/image-protocol.ts'
import {
  imageUrl,
  previewSize,
  PREVIEW_MAX_SIDE,
  type ImagePage,
  type ImageUrls,
} from '../../../src-preload/contract/images.ts'
import { makeProjectFolder, openDemoEngine, startShell, type ProjectFiles, type Shell } from './fixture.ts'

describe('sam-image: protocol', () => {
  let engine: Promise<Engine>
  let shell: Shell
  let project: ProjectFiles
  let other: ProjectFiles
  const ids = new Map<string, number>()
  const cache = new PreviewCache()
  const get = (url: string, method = 'GET') => handleImageRequest({ url, method }, shell.app.images, cache)

  beforeAll(async () => {
    engine = openDemoEngine()
    shell = startShell(engine)
    project = await makeProjectFolder()
    other = await makeProjectFolder('sam-shell-other-')
    shell.dialogs.folders.push(project.dir)
    await shell.value('annot:project.openDialog')
    await shell.app.projects.project?.readPendingHeaders()
    for (const image of (await shell.value<ImagePage>('annot:images.list')).images) ids.set(image.path, image.id)
  })
  afterAll(async () => {
    await shell.dispose()
    await (await engine).close()
    rmSync(project.dir, { recursive: true, force: true })
    rmSync(other.dir, { recursive: true, force: true })
  })

  const idOf = (path: string): number => ids.get(path) ?? -1

  it('serves PNG and JPEG files byte for byte with their content type', async () => {
    for (const [path, type] of [
      ['a-square.png', 'image/png'],
      ['b-photo.jpg', 'image/jpeg'],
    ] as const) {
      const response = await get(imageUrl('image', idOf(path)))
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type')).toBe(type)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(Buffer.from(await response.arrayBuffer()).equals(project.files.get(path) as Buffer)).toBe(true)
    }
  })

  it('converts formats Chromium cannot show (TIFF) to PNG', async () => {
    const response = await get(imageUrl('image', idOf('c-scan.tif')))
    expect(response.headers.get('content-type')).toBe('image/png')
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 50, 40])
  })

  it('previews a large image downscaled, oriented, at the size images.urls promises', async () => {
    const id = idOf('d-large.jpg')
    const urls = await shell.value<ImageUrls>('annot:images.urls', { imageId: id })
    expect(urls).toEqual({
      preview: expect.stringMatching(new RegExp(`^sam-image://preview/${id}\\?v=`)),
      full: expect.stringMatching(new RegExp(`^sam-image://image/${id}\\?v=`)),
      width: 1000,
      height: 3000,
      previewWidth: 683,
      previewHeight: 2048,
      downscaled: true,
    })
    const started = performance.now()
    const response = await get(urls.preview)
    const firstMs = performance.now() - started
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/jpeg')
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata()
    // 3000x1000 stored with EXIF orientation 6: seen as 1000x3000, previewed as 683x2048, upright.
    expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([683, 2048, 1])
    const again = performance.now()
    expect((await get(urls.preview)).status).toBe(200)
    console.log(
      `preview of 3000x1000 JPEG: ${firstMs.toFixed(0)} ms first, ${(performance.now() - again).toFixed(1)} ms cached`,
    )
    // The full image is the original file.
    const full = await get(urls.full)
    expect(Buffer.from(await full.arrayBuffer()).equals(project.files.get('d-large.jpg') as Buffer)).toBe(true)
    // A small image's preview is the image itself.
    const small = await shell.value<ImageUrls>('annot:images.urls', { imageId: idOf('a-square.png') })
    expect(small.downscaled).toBe(false)
    const preview = await get(small.preview)
    expect(Buffer.from(await preview.arrayBuffer()).equals(project.files.get('a-square.png') as Buffer)).toBe(true)
  })

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await get(imageUrl('image', idOf('a-square.png')), 'HEAD')
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(project.files.get('a-square.png')?.length))
    expect(await head.text()).toBe('')
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await get(imageUrl('image', 1), method)).status).toBe(405)
  })

  it('refuses traversal attempts and anything that is not scheme://image|preview/<id>', async () => {
    const attempts = [
      'sam-image://image/../../../../etc/passwd',
      'sam-image://image/1/../2',
      'sam-image://image/..%2f..%2fetc%2fpasswd',
      'sam-image://image/%2e%2e/%2e%2e/etc/passwd',
      'sam-image://image/1%00.png',
      'sam-image://image/a-square.png',
      `sam-image://image/${project.dir}/a-square.png`,
      'sam-image://image/C:\\Windows\\win.ini',
      'sam-image://file/1',
      'sam-image://image/',
      'sam-image://image/0',
      'sam-image://image/-1',
      'sam-image://image/01',
      'sam-image://image/1.5',
      'sam-image://image/1/2',
      'sam-image://image/99999999999999999',
      'sam-image://user:pw@image/1',
      'sam-image://image:8080/1',
      'file:///etc/passwd',
      'https://example.com/image/1',
      'not a url',
    ]
    for (const url of attempts) {
      const response = await get(url)
      expect(response.status, url).toBe(400)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    }
    expect(parseImageUrl('sam-image://preview/12?v=3')).toEqual({ kind: 'preview', imageId: 12, version: '3' })
    expect(parseImageUrl('sam-image://preview/12')).toEqual({ kind: 'preview', imageId: 12, version: null })
    for (const url of [
      'sam-image://preview/12?v=',
      'sam-image://preview/12?v=A!',
      'sam-image://preview/12?w=1',
      'sam-image://preview/12?v=1&v=2',
    ]) {
      expect(parseImageUrl(url), url).toBeNull()
    }
  })

  it('versions URLs by the project open: the same id in the next open is a new URL, and the old one is refused', async () => {
    const id = idOf('a-square.png')
    const before = await shell.value<ImageUrls>('annot:images.urls', { imageId: id })
    expect(before.full).toMatch(new RegExp(`^sam-image://image/${id}\\?v=[0-9a-z.]+$`))
    expect((await get(before.full)).status).toBe(200)
    shell.dialogs.folders.push(project.dir)
    await shell.value('annot:project.openDialog')
    const after = await shell.value<ImageUrls>('annot:images.urls', { imageId: id })
    expect(after.full).not.toBe(before.full)
    expect(after.preview).not.toBe(before.preview)
    expect((await get(after.full)).status).toBe(200)
    // Chromium reuses a document's images by URL: an old URL must never show another open's pixels.
    expect((await get(before.full)).status).toBe(404)
    expect((await get(before.preview)).status).toBe(404)
  })

  it("serves only the open project: unknown ids, another project's images, a closed project", async () => {
    expect((await get(imageUrl('image', 9999))).status).toBe(404)
    // An image that exists only in another project: served while that project is open, 404 here.
    writeFileSync(join(other.dir, 'f-extra.png'), project.files.get('a-square.png') as Buffer)
    shell.dialogs.folders.push(other.dir)
    await shell.value('annot:project.openDialog')
    const extra =
      (await shell.value<ImagePage>('annot:images.list')).images.find((image) => image.path === 'f-extra.png')?.id ?? -1
    expect(extra).toBeGreaterThan(ids.size)
    expect((await get(imageUrl('image', extra))).status).toBe(200)
    shell.dialogs.folders.push(project.dir)
    await shell.value('annot:project.openDialog')
    expect((await get(imageUrl('image', extra))).status).toBe(404)
    await shell.value('annot:project.close')
    expect((await get(imageUrl('image', idOf('a-square.png')))).status).toBe(404)
    shell.dialogs.folders.push(project.dir)
    await shell.value('annot:project.openDialog')
    expect((await get(imageUrl('image', idOf('a-square.png')))).status).toBe(200)
  })

  it('answers 404 for a file gone since the scan and 422, with the reason, for one the header read refused', async () => {
    const broken = await get(imageUrl('image', idOf('e-broken.png')))
    expect(broken.status).toBe(422)
    expect(await broken.text()).toMatch(/cannot be shown: not an image format that can be read/)
    unlinkSync(join(project.dir, 'b-photo.jpg'))
    expect((await get(imageUrl('image', idOf('b-photo.jpg')))).status).toBe(404)
    expect((await get(imageUrl('preview', idOf('b-photo.jpg')))).status).toBe(404)
  })

  it('sniffs types by content, not by name, and sizes previews by the shared rule', () => {
    expect(sniffImageType(Buffer.from('GIF89a......'))).toBe('image/gif')
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull()
    expect(previewSize(4000, 3000)).toEqual({ width: PREVIEW_MAX_SIDE, height: 1536, downscaled: true })
    expect(previewSize(2048, 100)).toEqual({ width: 2048, height: 100, downscaled: false })
  })
})
