// Opening a folder: which files become images, in what order, how a rescan treats new,
// vanished, returning, changed and moved files, and what the lazy header pass records.

import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { Project } from '../../../src-main/core/project/index.ts'
import { parseImageHeader, orientedSize } from '../../../src-main/core/project/header-parse.ts'
import { naturalCompare, sortYielding } from '../../../src-main/core/project/image-files.ts'
import {
  annotationInput,
  imageBytes,
  noisyJpeg,
  cleanupAfterEach,
  writeFile,
  type Format,
} from '../../helpers/project-fixtures.ts'

const { cleanups, temp } = cleanupAfterEach()

function folder(): string {
  return temp()
}

function open(dir: string): Project {
  const project = Project.open(dir, { userDataDir: join(dir, '..', 'unused-user-data') })
  cleanups.unshift(() => project.close())
  return project
}

const paths = (p: Project) => p.listImages().map((i) => i.path)

describe('scan: which files, in which order', () => {
  it('finds images recursively, skips hidden names and other files, natural order, relative / paths', async () => {
    const dir = folder()
    const png = await imageBytes('png')
    for (const rel of [
      'img10.png',
      'img2.png',
      'img1.PNG',
      'b/x.JPG',
      'b/c/deep.jpeg',
      'a.webp',
      'a.tif',
      'a.TIFF',
      'z.bmp',
      'z.gif',
      'z.avif',
    ])
      writeFile(dir, rel, png)
    writeFile(dir, 'notes.txt', 'hello')
    writeFile(dir, 'img3.png.bak', png)
    writeFile(dir, '.hidden.png', png)
    writeFile(dir, '.cache/inside.png', png)
    writeFile(dir, 'b/.thumbs/t.png', png)
    const project = open(dir)
    expect(project.listImages()).toEqual([]) // open does not scan
    const summary = await project.scan()
    expect(summary.found).toBe(11)
    expect(summary.added).toBe(11)
    expect(paths(project)).toEqual([
      'a.tif',
      'a.TIFF',
      'a.webp',
      'b/c/deep.jpeg',
      'b/x.JPG',
      'img1.PNG',
      'img2.png',
      'img10.png',
      'z.avif',
      'z.bmp',
      'z.gif',
    ])
    const image = project.imageByPath('b/c/deep.jpeg')!
    expect(project.absolutePath(image)).toBe(join(project.folder, 'b', 'c', 'deep.jpeg'))
    expect(project.imageByPath('b\\c\\deep.jpeg')?.id).toBe(image.id)
    expect(image).toMatchObject({
      width: null,
      height: null,
      status: 'new',
      missing: false,
      error: null,
      annotationCount: 0,
      size: png.length,
    })
  })

  it('lists a linked image from outside the folder, but not a link to one already inside it', async () => {
    const dir = folder()
    const outside = folder()
    const png = await imageBytes('png')
    writeFile(dir, 'a.png', png)
    writeFile(outside, 'elsewhere.png', png)
    mkdirSync(join(dir, 'export', 'images'), { recursive: true })
    symlinkSync(join(dir, 'a.png'), join(dir, 'export', 'images', 'a.png'))
    symlinkSync(join(outside, 'elsewhere.png'), join(dir, 'linked.png'))
    const project = open(dir)
    await project.scan()
    expect(paths(project)).toEqual(['a.png', 'linked.png'])
  })

  it('keeps natural order when files are added later, and pages through listImages by that order', async () => {
    const dir = folder()
    const png = await imageBytes('png')
    for (const n of [1, 10, 20]) writeFile(dir, `img${n}.png`, png)
    const project = open(dir)
    await project.scan()
    for (const n of [2, 11]) writeFile(dir, `img${n}.png`, png)
    const summary = await project.scan()
    expect(summary).toMatchObject({ found: 5, added: 2, missing: 0 })
    expect(paths(project)).toEqual(['img1.png', 'img2.png', 'img10.png', 'img11.png', 'img20.png'])
    // Keyset pages follow the list order, not the ids: img2 and img11 came last but sort inside.
    const [img1] = project.listImages({ limit: 1 })
    const page = project.listImages({ after: img1.id, limit: 2 })
    expect(page.map((i) => i.path)).toEqual(['img2.png', 'img10.png'])
    expect(project.listImages({ after: page[1].id }).map((i) => i.path)).toEqual(['img11.png', 'img20.png'])
    // The name filter: a case-insensitive substring of the path, in SQL, with its count.
    expect(project.listImages({ name: 'IMG1' }).map((i) => i.path)).toEqual(['img1.png', 'img10.png', 'img11.png'])
    expect(project.listImages({ name: 'img1', after: img1.id, limit: 1 }).map((i) => i.path)).toEqual(['img10.png'])
    expect(project.countImages({ name: 'Img1' })).toBe(3)
    expect(project.countImages({ name: '.PNG', status: 'new' })).toBe(5)
    expect(() => project.listImages({ after: 999 })).toThrow(/no image with id 999/)
  })
})

describe('scan: what it skips, and says so', () => {
  /** A path whose name holds raw bytes (Linux allows any but '/' and NUL). */
  const rawPath = (dir: string, ...parts: (string | number[])[]) =>
    Buffer.concat([
      Buffer.from(dir),
      ...parts.map((p) => Buffer.concat([Buffer.from('/'), typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)])),
    ])

  it('names files and folders whose name is not valid UTF-8 and lists none of them; a real U+FFFD is fine', async () => {
    const dir = folder()
    const png = await imageBytes('png')
    writeFile(dir, 'ok.png', png)
    // A valid name that contains the replacement character itself is an ordinary name.
    writeFile(dir, 'repl\uFFFD.png', png)
    const bad = [0x62, 0x61, 0x64, 0xff, 0x2e, 0x70, 0x6e, 0x67] // "bad\xFF.png"
    writeFileSync(rawPath(dir, bad), png)
    const badDir = [0x64, 0x69, 0x72, 0xc3, 0x28] // "dir" + an invalid two-byte sequence
    mkdirSync(rawPath(dir, badDir))
    writeFileSync(rawPath(dir, badDir, 'inside.png'), png)
    writeFileSync(rawPath(dir, [0x6e, 0xe9, 0x2e, 0x74, 0x78, 0x74]), 'not an image: not worth a word')
    writeFileSync(rawPath(dir, [0x2e, 0x68, 0xe9, 0x2e, 0x70, 0x6e, 0x67]), png) // hidden: not worth a word
    writeFile(dir, 'sub/deep.png', png)
    writeFileSync(rawPath(dir, 'sub', [0xe2, 0x82, 0x2e, 0x6a, 0x70, 0x67]), png) // truncated "€"
    const project = open(dir)
    const summary = await project.scan()
    expect(paths(project)).toEqual(['ok.png', 'repl\uFFFD.png', 'sub/deep.png'])
    expect(summary.found).toBe(3)
    expect(summary.skipped).toEqual([
      {
        path: 'bad\\xFF.png',
        reason: 'name-not-utf8',
        detail: 'the file name is not valid UTF-8, so it cannot be stored and opened again (rename it)',
      },
      {
        path: 'dir\\xC3(',
        reason: 'name-not-utf8',
        detail: 'the folder name is not valid UTF-8, so its images are not listed (rename it)',
      },
      {
        path: 'sub/\\xE2\\x82.jpg',
        reason: 'name-not-utf8',
        detail: 'the file name is not valid UTF-8, so it cannot be stored and opened again (rename it)',
      },
    ])
    // Every listed image can be read; a rescan says the same again and changes nothing.
    expect(await project.readPendingHeaders()).toBe(3)
    expect(project.listImages().map((i) => [i.path, i.error, i.width])).toEqual([
      ['ok.png', null, 40],
      ['repl\uFFFD.png', null, 40],
      ['sub/deep.png', null, 40],
    ])
    const again = await project.scan()
    expect(again.skipped).toEqual(summary.skipped)
    expect(again).toMatchObject({ added: 0, missing: 0, found: 3 })
  })
})

describe('rescan', () => {
  it('marks vanished files missing with annotations kept, and un-marks them when they return', async () => {
    const dir = folder()
    writeFile(dir, 'a.png', await imageBytes('png', 40, 30, 1))
    writeFile(dir, 'b.png', await imageBytes('png', 40, 30, 2))
    const project = open(dir)
    await project.scan()
    const a = project.imageByPath('a.png')!
    const cat = await project.createCategory({ name: 'cat' })
    const saved = await project.saveAnnotation(annotationInput(a.id, cat.id))
    const bytes = readFileSync(join(dir, 'a.png'))
    rmSync(join(dir, 'a.png'))
    let summary = await project.scan()
    expect(summary).toMatchObject({ found: 1, missing: 1, added: 0 })
    expect(project.getImage(a.id)).toMatchObject({ missing: true, annotationCount: 1 })
    expect(project.counts()).toMatchObject({ images: 2, missing: 1, annotations: 1 })
    summary = await project.scan() // still gone: not counted again
    expect(summary.missing).toBe(0)
    writeFileSync(join(dir, 'a.png'), bytes)
    summary = await project.scan()
    expect(summary).toMatchObject({ returned: 1, added: 0 })
    expect(project.getImage(a.id)).toMatchObject({ missing: false, annotationCount: 1 })
    expect(project.getAnnotation(saved.id).imageId).toBe(a.id)
  })

  it('re-links a renamed or moved file by fingerprint: same id, annotations and status, new path', async () => {
    const dir = folder()
    writeFile(dir, 'a.jpg', await noisyJpeg(200, 200, 1))
    writeFile(dir, 'b.jpg', await noisyJpeg(200, 200, 2))
    const project = open(dir)
    await project.scan()
    await project.readPendingHeaders()
    const a = project.imageByPath('a.jpg')!
    const b = project.imageByPath('b.jpg')!
    const cat = await project.createCategory({ name: 'cat' })
    await project.saveAnnotation(annotationInput(a.id, cat.id))
    await project.setImageStatus(a.id, 'done')
    mkdirSync(join(dir, 'moved'))
    renameSync(join(dir, 'a.jpg'), join(dir, 'moved', 'renamed.jpg'))
    // Same size as b, different content: must not steal b's row.
    writeFile(dir, 'c.jpg', await noisyJpeg(200, 200, 3))
    const summary = await project.scan()
    expect(summary).toMatchObject({ relinked: 1, added: 1, missing: 0 })
    expect(project.getImage(a.id)).toMatchObject({
      path: 'moved/renamed.jpg',
      status: 'done',
      annotationCount: 1,
      missing: false,
      width: 200,
    })
    expect(project.getImage(b.id).path).toBe('b.jpg')
    expect(project.imageByPath('a.jpg')).toBeNull()
    expect(paths(project)).toEqual(['b.jpg', 'c.jpg', 'moved/renamed.jpg'])
  })

  it('re-links a file moved before its header was ever read (same size and modification time)', async () => {
    const dir = folder()
    writeFile(dir, 'a.png', await imageBytes('png', 40, 30, 1))
    const project = open(dir)
    await project.scan()
    const a = project.imageByPath('a.png')!
    renameSync(join(dir, 'a.png'), join(dir, 'a2.png'))
    const summary = await project.scan()
    expect(summary).toMatchObject({ relinked: 1, added: 0 })
    expect(project.getImage(a.id).path).toBe('a2.png')
  })

  it('re-links a file that was missing for several scans when it reappears elsewhere', async () => {
    const dir = folder()
    writeFile(dir, 'a.jpg', await noisyJpeg(64, 64, 4))
    const project = open(dir)
    await project.scan()
    await project.readPendingHeaders()
    const id = project.imageByPath('a.jpg')!.id
    const bytes = readFileSync(join(dir, 'a.jpg'))
    rmSync(join(dir, 'a.jpg'))
    await project.scan()
    expect(project.getImage(id).missing).toBe(true)
    writeFile(dir, 'sub/a-copy.jpg', bytes) // new mtime: only the fingerprint can match
    const summary = await project.scan()
    expect(summary.relinked).toBe(1)
    expect(project.getImage(id)).toMatchObject({ path: 'sub/a-copy.jpg', missing: false })
  })

  it('reads the header again when a file changed in place', async () => {
    const dir = folder()
    const file = writeFile(dir, 'a.png', await imageBytes('png', 40, 30))
    const project = open(dir)
    await project.scan()
    await project.readPendingHeaders()
    expect(project.imageByPath('a.png')).toMatchObject({ width: 40, height: 30 })
    writeFileSync(file, await imageBytes('png', 80, 50))
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    const summary = await project.scan()
    expect(summary).toMatchObject({ changed: 1, pendingHeaders: 1 })
    expect(project.imageByPath('a.png')).toMatchObject({ width: null })
    expect(await project.readPendingHeaders()).toBe(1)
    expect(project.imageByPath('a.png')).toMatchObject({ width: 80, height: 50 })
  })
})

describe('readPendingHeaders', () => {
  it('readHeaderNow reads one pending image at once (a viewer need not wait for the folder), and only once', async () => {
    const dir = folder()
    writeFile(dir, 'a.png', await imageBytes('png', 40, 30, 3))
    writeFile(dir, 'b.jpg', await imageBytes('jpeg', 20, 10, 3, 6))
    writeFile(dir, 'c.png', Buffer.from('not a png'))
    const project = open(dir)
    await project.scan()
    const b = project.imageByPath('b.jpg')!
    expect(b).toMatchObject({ width: null, height: null, error: null })
    expect(await project.readHeaderNow(b.id)).toMatchObject({ width: 10, height: 20, error: null })
    const c = project.imageByPath('c.png')!
    expect((await project.readHeaderNow(c.id)).error).toMatch(/not an image format/)
    // The background pass finds only the one left.
    expect(await project.readPendingHeaders()).toBe(1)
    expect(project.imageByPath('a.png')).toMatchObject({ width: 40, height: 30 })
  })

  it('records the oriented size for every format, EXIF orientation 5-8 swapping width and height', async () => {
    const dir = folder()
    const cases: [string, Format, number | undefined, [number, number]][] = [
      ['p.png', 'png', undefined, [40, 30]],
      ['j1.jpg', 'jpeg', 1, [40, 30]],
      ['j3.jpg', 'jpeg', 3, [40, 30]],
      ['j5.jpg', 'jpeg', 5, [30, 40]],
      ['j6.jpg', 'jpeg', 6, [30, 40]],
      ['j8.jpg', 'jpeg', 8, [30, 40]],
      ['w.webp', 'webp', undefined, [40, 30]],
      ['w6.webp', 'webp', 6, [30, 40]],
      ['g.gif', 'gif', undefined, [40, 30]],
      ['t6.tif', 'tiff', 6, [30, 40]],
      ['a.avif', 'avif', undefined, [40, 30]],
    ]
    for (const [name, format, orientation] of cases)
      writeFile(dir, name, await imageBytes(format, 40, 30, 3, orientation))
    const project = open(dir)
    await project.scan()
    const progress: number[] = []
    expect(await project.readPendingHeaders({ onProgress: (done) => progress.push(done) })).toBe(cases.length)
    expect(progress.at(-1)).toBe(cases.length)
    for (const [name, , , [w, h]] of cases)
      expect(project.imageByPath(name), name).toMatchObject({ width: w, height: h, error: null })
    expect(await project.readPendingHeaders()).toBe(0) // nothing left
  })

  it('the fast header parser agrees with sharp on every format it answers for', async () => {
    const inputs: Buffer[] = [await noisyJpeg(123, 77)]
    for (const format of ['png', 'jpeg', 'webp', 'gif'] as const) {
      for (const orientation of [undefined, 2, 6, 7]) inputs.push(await imageBytes(format, 51, 23, 5, orientation))
    }
    inputs.push(
      await sharp({ create: { width: 33, height: 17, channels: 4, background: '#ff000080' } })
        .webp({ lossless: true })
        .toBuffer(),
    )
    inputs.push(
      await sharp({ create: { width: 33, height: 17, channels: 4, background: '#ff000080' } })
        .webp({ lossless: false })
        .toBuffer(),
    )
    let answered = 0
    for (const buf of inputs) {
      const parsed = parseImageHeader(buf.subarray(0, 64 * 1024))
      const meta = await sharp(buf).metadata()
      if (!parsed) continue
      answered++
      const swap = (meta.orientation ?? 1) >= 5
      expect(orientedSize(parsed)).toEqual({
        width: swap ? meta.height : meta.width,
        height: swap ? meta.width : meta.height,
      })
      expect(parsed.orientation).toBe(meta.orientation ?? 1)
    }
    expect(answered).toBeGreaterThanOrEqual(12)
  })

  it('keeps unreadable images listed with their error; the project still opens', async () => {
    const dir = folder()
    writeFile(dir, 'good.png', await imageBytes('png'))
    writeFile(dir, 'empty.jpg', Buffer.alloc(0))
    writeFile(dir, 'text.png', 'this is not an image at all')
    const jpeg = await noisyJpeg(300, 200)
    writeFile(dir, 'truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)))
    const png = await sharp(await noisyJpeg(300, 200))
      .png()
      .toBuffer()
    writeFile(dir, 'truncated.png', png.subarray(0, Math.floor(png.length * 0.6)))
    // A well-formed PNG header claiming 20000 x 20000 (400 MP).
    const ihdr = Buffer.alloc(13)
    ihdr.writeUInt32BE(20000, 0)
    ihdr.writeUInt32BE(20000, 4)
    ihdr.set([8, 2, 0, 0, 0], 8)
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4)
      len.writeUInt32BE(data.length)
      return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)])
    }
    writeFile(
      dir,
      'huge.png',
      Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('IDAT', deflateSync(Buffer.alloc(10))),
        chunk('IEND', Buffer.alloc(0)),
      ]),
    )
    // A JPEG with trailing data after its end marker (like a motion photo) is fine.
    writeFile(dir, 'trailer.jpg', Buffer.concat([jpeg, Buffer.from('x'.repeat(70_000))]))

    let project = open(dir)
    await project.scan()
    await project.readPendingHeaders()
    const byName = (name: string) => project.imageByPath(name)!
    expect(byName('good.png')).toMatchObject({ error: null, width: 40 })
    expect(byName('trailer.jpg')).toMatchObject({ error: null, width: 300, height: 200 })
    expect(byName('empty.jpg').error).toMatch(/empty file/)
    expect(byName('text.png').error).toMatch(/not an image format|cannot read/)
    expect(byName('truncated.jpg').error).toMatch(/truncated/)
    expect(byName('truncated.png').error).toMatch(/truncated/)
    expect(byName('huge.png').error).toMatch(/20000x20000 is 400 MP/)
    expect(project.counts()).toMatchObject({ images: 7, unreadable: 5, missing: 0 })
    project.close()
    project = open(dir) // reopening with unreadable images listed works
    expect(project.listImages()).toHaveLength(7)
    // The file gets fixed: a rescan re-reads it.
    const fixed = join(dir, 'truncated.jpg')
    writeFileSync(fixed, jpeg)
    utimesSync(fixed, new Date(), new Date(Date.now() + 5000))
    await project.scan()
    await project.readPendingHeaders()
    expect(project.imageByPath('truncated.jpg')).toMatchObject({ error: null, width: 300 })
  })

  it('stops between batches when aborted and resumes later', async () => {
    const dir = folder()
    const png = await imageBytes('png')
    for (let i = 0; i < 600; i++) writeFile(dir, `i${i}.png`, png)
    const project = open(dir)
    await project.scan()
    const controller = new AbortController()
    const done = await project.readPendingHeaders({
      signal: controller.signal,
      onProgress: (n) => n > 0 && controller.abort(),
    })
    expect(done).toBe(256)
    expect((await project.scan()).pendingHeaders).toBe(600 - 256)
    expect(await project.readPendingHeaders()).toBe(600 - 256)
    expect(project.listImages().every((i) => i.width === 40)).toBe(true)
  })

  it('skips a file deleted after the scan and lets the next scan mark it missing', async () => {
    const dir = folder()
    writeFile(dir, 'a.png', await imageBytes('png'))
    const gone = writeFile(dir, 'b.png', await imageBytes('png', 40, 30, 9))
    const project = open(dir)
    await project.scan()
    rmSync(gone)
    expect(await project.readPendingHeaders()).toBe(2)
    expect(project.imageByPath('b.png')).toMatchObject({ error: null, width: null })
    await project.scan()
    expect(project.imageByPath('b.png')!.missing).toBe(true)
  })
})

describe('scan: a rescan of an unchanged folder', () => {
  it('writes nothing and reads no file: it goes through while another connection holds the write lock', async () => {
    const dir = folder()
    const png = await imageBytes('png')
    for (let i = 0; i < 30; i++) writeFile(dir, `sub${i % 3}/img${i}.png`, png)
    const file = join(dir, 'sub0', 'img0.png')
    const stamp = new Date('2024-01-02T03:04:05Z')
    utimesSync(file, stamp, stamp)
    const project = open(dir)
    await project.scan()
    await project.readPendingHeaders()
    const before = project.listImages()
    // Same size and time, other bytes: only a read of the file could tell.
    writeFileSync(file, Buffer.alloc(png.length, 7))
    utimesSync(file, stamp, stamp)
    const Database = (await import('better-sqlite3')).default
    const other = new Database(project.dbPath)
    try {
      other.exec('BEGIN IMMEDIATE')
      const summary = await project.scan()
      expect(summary).toMatchObject({ found: 30, added: 0, missing: 0, returned: 0, relinked: 0, changed: 0 })
      expect(summary.pendingHeaders).toBe(0)
      other.exec('COMMIT')
    } finally {
      other.close()
    }
    expect(project.listImages()).toEqual(before)
  })
})

describe('sortYielding', () => {
  it('sorts as Array.prototype.sort does (stable, natural order), across many merge passes', async () => {
    let seed = 3
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32
    const items = Array.from({ length: 5000 }, (_, i) => ({
      path: `d${Math.floor(rand() * 20)}/img${Math.floor(rand() * 900)}.png`,
      i,
    }))
    const expected = [...items].sort((a, b) => naturalCompare(a.path, b.path))
    expect(await sortYielding(items, (a, b) => naturalCompare(a.path, b.path), 0)).toEqual(expected)
  })
})
