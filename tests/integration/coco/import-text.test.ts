// COCO import and the text of the file: its encoding (a UTF-8 byte-order mark is fine, other
// encodings are named), numbers shown in error lines as written (`1e400`, not "(null)"), and
// file names that survive export -> import whatever characters they hold. Real files, real
// SQLite projects.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportCoco } from '../../../src-main/core/coco/export-coco.ts'
import { importCoco } from '../../../src-main/core/coco/import-coco.ts'
import { jsonSourcePreview, locateJsonValue } from '../../../src-main/core/coco/json-source.ts'
import { UserError } from '../../../src-main/core/errors.ts'
import type { Project } from '../../../src-main/core/project/project.ts'
import { makeFolder, openScanned, type ImageSpec } from './helpers.ts'

let work: string
const cleanups: string[] = []

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sam-coco-text-'))
  cleanups.push(work)
})

afterAll(() => {
  for (const dir of cleanups) rmSync(dir, { recursive: true, force: true })
})

async function projectWith(images: ImageSpec[]): Promise<{ project: Project; dir: string }> {
  const dir = await makeFolder(images, false)
  cleanups.push(dir)
  return { project: await openScanned(dir), dir }
}

const SQUARE = [10, 10, 40, 10, 40, 30, 10, 30]

/** A one-image, one-annotation COCO document as text, with `ann` spliced into the annotation. */
function docText(ann: string, image = '"id": 1, "file_name": "a.png", "width": 64, "height": 48'): string {
  return `{
  "images": [{${image}}],
  "categories": [{"id": 1, "name": "cat"}],
  "annotations": [{"id": 5, "image_id": 1, "category_id": 1, ${ann}}]
}`
}

async function importError(project: Project, name: string, content: string | Buffer): Promise<Error> {
  const file = join(work, name)
  writeFileSync(file, content)
  const err = await importCoco(project, file).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(UserError)
  expect((err as Error).message).toContain(file)
  expect(project.counts().annotations).toBe(0)
  return err as Error
}

describe('COCO file encoding', () => {
  it('accepts a UTF-8 byte-order mark without a word', async () => {
    const { project } = await projectWith([{ path: 'a.png', width: 64, height: 48 }])
    try {
      const file = join(work, 'bom.json')
      const text = docText(`"segmentation": [${JSON.stringify(SQUARE)}]`)
      writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))
      const result = await importCoco(project, file)
      expect(result.imported).toBe(1)
      expect(result.skippedImages).toEqual([])
    } finally {
      project.close()
    }
  })

  it('refuses UTF-16 and UTF-32 (with or without a byte-order mark) and non-UTF-8 bytes, naming the file and the encoding', async () => {
    const { project } = await projectWith([{ path: 'a.png', width: 64, height: 48 }])
    try {
      const text = docText(`"segmentation": [${JSON.stringify(SQUARE)}]`)
      const le = Buffer.from(text, 'utf16le')
      const be = Buffer.from(le).swap16()
      expect((await importError(project, 'le.json', Buffer.concat([Buffer.from([0xff, 0xfe]), le]))).message).toMatch(
        /le\.json: the file is UTF-16 \(little-endian, with a byte-order mark\) text; save it as UTF-8$/,
      )
      expect((await importError(project, 'be.json', Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).message).toMatch(
        /be\.json: the file is UTF-16 \(big-endian, with a byte-order mark\) text/,
      )
      expect((await importError(project, 'nobom.json', le)).message).toMatch(
        /nobom\.json: the file is UTF-16 or UTF-32 \(zero bytes between the characters\) text/,
      )
      const utf32 = Buffer.alloc(4 + text.length * 4)
      utf32.set([0xff, 0xfe, 0, 0])
      for (let i = 0; i < text.length; i++) utf32.writeUInt32LE(text.charCodeAt(i), 4 + i * 4)
      expect((await importError(project, 'u32.json', utf32)).message).toMatch(
        /u32\.json: the file is UTF-32 \(little-endian/,
      )
      // Latin-1 "é" (0xE9) in a file name: decoded as UTF-8 it would silently become U+FFFD.
      const latin1 = Buffer.from(
        docText(`"segmentation": [${JSON.stringify(SQUARE)}]`, '"id": 1, "file_name": "caf\u00e9.png"'),
        'latin1',
      )
      const at = latin1.indexOf(0xe9)
      expect((await importError(project, 'latin1.json', latin1)).message).toMatch(
        new RegExp(`latin1\\.json: not UTF-8 text \\(byte 0xE9 at offset ${at} is not valid UTF-8`),
      )
    } finally {
      project.close()
    }
  })
})

describe('COCO error lines show numbers as written', () => {
  it.each([
    [
      'an overflowing coordinate',
      `"segmentation": [[10, 10, 40, 1e400, 40, 30]]`,
      /segmentation polygon value 3 \(1e400\) is not a finite number/,
    ],
    [
      'a negative overflow',
      `"segmentation": [[10, 10, 40, -1E+999, 40, 30]]`,
      /value 3 \(-1E\+999\) is not a finite number/,
    ],
    ['a bbox with an overflow', `"bbox": [1, 2, 1e400, 5]`, /bbox \[1,2,1e400,5\] is not \[x, y, width, height\]/],
    [
      'an id too large to be exact',
      `"segmentation": [[1,1,5,1,5,5]], "image_id": 12345678901234567890`,
      /image_id 12345678901234567890 is not an integer/,
    ],
    [
      'counts with an overflow',
      `"segmentation": {"size": [48, 64], "counts": [3000, 1e400]}`,
      /RLE counts value 1 \(1e400\) is not an integer >= 0/,
    ],
  ])('%s', async (_name, ann, message) => {
    const { project } = await projectWith([{ path: 'a.png', width: 64, height: 48 }])
    try {
      expect((await importError(project, 'numbers.json', docText(ann))).message).toMatch(message)
    } finally {
      project.close()
    }
  })

  it('a width of -0, a duplicated key (the last one counts, as JSON.parse reads it), a pretty-printed file', async () => {
    const { project } = await projectWith([{ path: 'a.png', width: 64, height: 48 }])
    try {
      const seg = `"segmentation": [${JSON.stringify(SQUARE)}]`
      expect(
        (await importError(project, 'minus-zero.json', docText(seg, '"id": 1, "file_name": "a.png", "width": -0')))
          .message,
      ).toMatch(/images\[0\] \(id 1\): width -0 is not a positive integer/)
      const twice = docText(`"segmentation": [[1, 2, 3, 4, 5, 6]], "segmentation": [[1, 2, 3, 4, 5, 6e999]]`)
      expect((await importError(project, 'twice.json', twice)).message).toMatch(
        /value 5 \(6e999\) is not a finite number/,
      )
      // An "\u0073egmentation" key is "segmentation" once decoded.
      const escaped = docText(`"\\u0073egmentation": [\n  [1,\n   2.50, 1e400]\n]`)
      expect((await importError(project, 'escaped.json', escaped)).message).toMatch(
        /value 2 \(1e400\) is not a finite number/,
      )
    } finally {
      project.close()
    }
  })

  it('NaN is not JSON: refused as such, naming the file', async () => {
    const { project } = await projectWith([{ path: 'a.png', width: 64, height: 48 }])
    try {
      const err = await importError(project, 'nan.json', docText(`"segmentation": [[1, 1, NaN, 5, 5, 5]]`))
      expect(err.message).toMatch(/nan\.json: not valid JSON \(/)
    } finally {
      project.close()
    }
  })

  it('the locator walks nested values, strings with quotes and escapes, and stops early on huge values', () => {
    const text = ' {"a": "x\\"]}", "b\\\\": [ {"c": [1, [2, 3], -0.0e-0]} ], "a": [ 7 ,8 ]}'
    expect(jsonSourcePreview(text, locateJsonValue(text, ['b\\', 0, 'c', 2]), 60)).toBe('-0.0e-0')
    expect(jsonSourcePreview(text, locateJsonValue(text, ['b\\', 0]), 60)).toBe('{"c":[1,[2,3],-0.0e-0]}')
    expect(jsonSourcePreview(text, locateJsonValue(text, ['a']), 60)).toBe('[7,8]')
    expect(locateJsonValue(text, ['a', 2])).toBe(-1)
    expect(locateJsonValue(text, ['z'])).toBe(-1)
    expect(locateJsonValue(text, [0])).toBe(-1)
    expect(jsonSourcePreview('[[[[[1]]], [[[ ]]]]]', 0, 60, 3)).toBe('[[[[...]],[[...]]]]')
    expect(jsonSourcePreview('[[[[ ]], 2]]', 0, 60, 3)).toBe('[[[[]],2]]')
    expect(jsonSourcePreview('{"a": {"b": {"c": {"d": 1}}}}', 0, 60, 2)).toBe('{"a":{"b":{...}}}')
    const huge = `[${'1,'.repeat(100000)}1]`
    expect(jsonSourcePreview(huge, 0, 10).length).toBeLessThanOrEqual(12)
  })
})

describe('file names round-trip', () => {
  const NAMES: ImageSpec[] = [
    { path: 'back\\slash.png', width: 64, height: 48 },
    { path: 'with space.png', width: 50, height: 40 },
    { path: 'ünïcödé/日本 写真.png', width: 60, height: 45 },
    { path: '#1 100%.png', width: 70, height: 50 },
    { path: 'sub dir/a%20b#c.png', width: 80, height: 60 },
    { path: 'sub dir/x\\y/z.png', width: 90, height: 70 },
  ]

  it('whatever export --coco writes as file_name imports back onto the same images', async () => {
    const { project: source, dir } = await projectWith(NAMES)
    const target = mkdtempSync(join(work, 'copy-'))
    cpSync(dir, target, { recursive: true, filter: (src) => !src.includes('.sam-annotator') })
    const copy = await openScanned(target)
    try {
      const cat = await source.ensureCategory('thing')
      for (const spec of NAMES) {
        // imageByPath reads '\\' as a separator, so look the literal name up in the list.
        const image = source.listImages().find((i) => i.path === spec.path)
        expect(image?.path).toBe(spec.path)
        await source.saveAnnotation({
          imageId: image!.id,
          categoryId: cat.id,
          segmentation: [SQUARE],
          bbox: [10, 10, 30, 20],
          area: 600,
          score: null,
          prompt: null,
          modelId: 'test',
        })
      }
      const file = join(work, 'names.json')
      await exportCoco(source, file)
      const written = JSON.parse(readFileSync(file, 'utf8')) as { images: { file_name: string }[] }
      expect(written.images.map((i) => i.file_name).sort()).toEqual(NAMES.map((n) => n.path).sort())
      const result = await importCoco(copy, file)
      expect(result.skippedImages).toEqual([])
      expect(result.imported).toBe(NAMES.length)
      for (const image of copy.listImages())
        expect([image.path, copy.listAnnotations(image.id).length]).toEqual([image.path, 1])
    } finally {
      source.close()
      copy.close()
    }
  })

  it('a "\\" is a separator only when no project image has the literal name', async () => {
    const { project } = await projectWith([
      { path: 'sub/img.png', width: 64, height: 48 },
      { path: 'sub\\img.png', width: 64, height: 48 },
      { path: 'win/only.png', width: 64, height: 48 },
      { path: 'deep/er/base.png', width: 64, height: 48 },
    ])
    try {
      const file = join(work, 'windows.json')
      const names = ['sub\\img.png', 'win\\only.png', '.\\win\\only.png', 'C:\\export\\base.png']
      writeFileSync(
        file,
        JSON.stringify({
          images: names.map((file_name, i) => ({ id: i + 1, file_name, width: 64, height: 48 })),
          categories: [{ id: 1, name: 'cat' }],
          annotations: names.map((_, i) => ({
            id: i + 1,
            image_id: i + 1,
            category_id: 1,
            segmentation: [[i, 0, i + 20, 0, i + 20, 20]],
          })),
        }),
      )
      const result = await importCoco(project, file)
      expect(result.skippedImages).toEqual([])
      const count = (path: string) =>
        project.listAnnotations(project.listImages().find((i) => i.path === path)!.id).length
      expect(count('sub\\img.png')).toBe(1)
      expect(count('sub/img.png')).toBe(0)
      expect(count('win/only.png')).toBe(2)
      expect(count('deep/er/base.png')).toBe(1)
    } finally {
      project.close()
    }
  })
})
