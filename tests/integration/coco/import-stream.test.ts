// COCO import reads its file in chunks: annotations are handed over while the file is still being
// read (never the whole text as one string), any order of the top-level keys imports the same,
// and the whole-document parser's order of precedence between faults is kept. Real files, real
// SQLite projects.

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCocoFile } from '../../../src-main/core/coco/coco-read.ts'
import { importCoco } from '../../../src-main/core/coco/import-coco.ts'
import { UserError } from '../../../src-main/core/errors.ts'
import type { Project } from '../../../src-main/core/project/project.ts'
import { makeFolder, openScanned } from './helpers.ts'

let work: string
let folder: string

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sam-coco-stream-'))
  folder = await makeFolder(
    [
      { path: 'a.png', width: 64, height: 48 },
      { path: 'ünï/b.png', width: 40, height: 30 },
    ],
    false,
  )
})

afterAll(() => {
  for (const dir of [work, folder]) rmSync(dir, { recursive: true, force: true })
})

const IMAGES = `[{"id": 1, "file_name": "a.png", "width": 64, "height": 48}, {"id": 2, "file_name": "ünï/b.png", "width": 40, "height": 30}]`
const CATEGORIES = `[{"id": 1, "name": "cät"}, {"id": 2, "name": "dog", "supercategory": "animal"}]`

function annotations(n: number): string {
  const list: string[] = []
  for (let i = 0; i < n; i++) {
    const x = i % 30
    const y = Math.floor(i / 30) % 20
    const image = 1 + (i % 2)
    list.push(
      `{"id": ${i + 1}, "image_id": ${image}, "category_id": ${1 + (i % 3 === 0 ? 1 : 0)}, "segmentation": [[${x}, ${y}, ${x + 9}, ${y}, ${x + 9}, ${y + 8}, ${x}, ${y + 8}]], "area": 1, "bbox": [0, 0, 1, 1], "iscrowd": 0}`,
    )
  }
  return `[\n${list.join(',\n')}\n]`
}

function write(name: string, text: string): string {
  const file = join(work, name)
  writeFileSync(file, text)
  return file
}

async function fresh(): Promise<Project> {
  const dir = mkdtempSync(join(work, 'p-'))
  const { cpSync } = await import('node:fs')
  cpSync(folder, dir, { recursive: true, filter: (src) => !src.includes('.sam-annotator') })
  return openScanned(dir)
}

/** What an import leaves in a project, comparable between projects. */
function contents(project: Project): unknown {
  const byId = new Map(project.listCategories().map((c) => [c.id, c.name]))
  return project.listImages().map((image) => ({
    path: image.path,
    annotations: project
      .listAnnotations(image.id)
      .map((a) => ({ category: byId.get(a.categoryId), segmentation: a.segmentation, area: a.area })),
  }))
}

describe('COCO import reads the file in chunks', () => {
  it('hands annotations over while the file is still being read (never the whole text at once)', async () => {
    const file = write(
      'long.json',
      `{"images": ${IMAGES}, "categories": ${CATEGORIES}, "annotations": ${annotations(2000)}}`,
    )
    const size = statSync(file).size
    let read = 0
    let readAtFirst = -1
    let count = 0
    for await (const event of readCocoFile(file, { chunkSize: 512, onRead: (bytes) => (read = bytes) })) {
      if (event.kind !== 'annotation') continue
      if (readAtFirst < 0) readAtFirst = read
      count++
    }
    expect(count).toBe(2000)
    expect(size).toBeGreaterThan(200_000)
    // The first annotation came when about one chunk past the images and categories was read.
    expect(readAtFirst).toBeLessThan(4096)
  })

  it('imports the same whatever the chunk size (entries, keys and UTF-8 characters split across reads)', async () => {
    const file = write(
      'chunks.json',
      `\ufeff{"images": ${IMAGES}, "categories": ${CATEGORIES}, "annotations": ${annotations(300)}}`,
    )
    const whole = await fresh()
    const tiny = await fresh()
    try {
      const a = await importCoco(whole, file)
      const b = await importCoco(tiny, file, { chunkSize: 7 })
      expect(a.imported).toBe(300)
      expect({ ...b, durationMs: 0 }).toEqual({ ...a, durationMs: 0 })
      expect(contents(tiny)).toEqual(contents(whole))
    } finally {
      whole.close()
      tiny.close()
    }
  })

  it.each([
    ['annotations first', (a: string) => `{"annotations": ${a}, "images": ${IMAGES}, "categories": ${CATEGORIES}}`],
    ['categories last', (a: string) => `{"images": ${IMAGES}, "annotations": ${a}, "categories": ${CATEGORIES}}`],
    [
      'other keys around, one of them large',
      (a: string) =>
        `{"info": {"description": "x", "big": [${'[1,"]"],'.repeat(2000)}0]}, "categories": ${CATEGORIES}, "licenses": [], "images": ${IMAGES}, "annotations": ${a}, "extra": null}`,
    ],
  ])('any order of the top-level keys imports the same (%s)', async (_name, layout) => {
    const usual = write(
      'usual.json',
      `{"images": ${IMAGES}, "categories": ${CATEGORIES}, "annotations": ${annotations(100)}}`,
    )
    const other = write('other.json', layout(annotations(100)))
    const a = await fresh()
    const b = await fresh()
    try {
      const ra = await importCoco(a, usual)
      const rb = await importCoco(b, other, { chunkSize: 64 })
      expect(ra.imported).toBe(100)
      expect({ ...rb, file: '', durationMs: 0 }).toEqual({ ...ra, file: '', durationMs: 0 })
      expect(contents(b)).toEqual(contents(a))
    } finally {
      a.close()
      b.close()
    }
  })

  it.each([
    [
      'broken JSON after a bad annotation is what is reported',
      `{"images": ${IMAGES}, "categories": ${CATEGORIES}, "annotations": [{"id": 1, "image_id": 9, "category_id": 1, "bbox": [1, 1, 5, 5]}], "x": }`,
      /bad\.json: not valid JSON \(/,
    ],
    [
      'a missing list after a bad image',
      `{"images": [{"id": 1}], "annotations": []}`,
      /bad\.json: categories: missing/,
    ],
    [
      'a list that is not one',
      `{"annotations": [], "images": ${IMAGES}, "categories": {"id": 1}}`,
      /bad\.json: categories: is \{"id":1\}, not a list/,
    ],
    [
      'a bad annotation before the images, with its value as written',
      `{"annotations": [{"id": 4, "image_id": 1, "category_id": 1, "bbox": [1, 2, 1e400, 5]}], "images": ${IMAGES}, "categories": ${CATEGORIES}}`,
      /bad\.json: annotations\[0\] \(id 4\): no segmentation, and bbox \[1,2,1e400,5\] is not \[x, y, width, height\]/,
    ],
    [
      'broken JSON inside an entry',
      `{"images": ${IMAGES}, "categories": ${CATEGORIES}, "annotations": [{"id": 1, "image_id": 1,, "category_id": 1}]}`,
      /bad\.json: not valid JSON \(annotations\[0\]: /,
    ],
    ['a list at the top', `[1, 2]`, /bad\.json: not a COCO file \(the top level is not an object\)/],
    ['a file cut short', `{"images": ${IMAGES}, "categories": [`, /bad\.json: not valid JSON \(Unexpected end/],
  ])('%s', async (_name, text, message) => {
    const project = await fresh()
    try {
      const file = write('bad.json', text)
      const err = await importCoco(project, file, { chunkSize: 16 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UserError)
      expect((err as Error).message).toMatch(message)
      expect(project.counts().annotations).toBe(0)
      expect(project.listCategories()).toEqual([])
    } finally {
      project.close()
    }
  })

  it('names a byte that is not UTF-8 by its offset in the file, far past the first read', async () => {
    const project = await fresh()
    try {
      const text = Buffer.from(
        `{"images": ${IMAGES.replace('ünï', 'uni')}, "categories": ${CATEGORIES.replace('ä', 'a')}, "annotations": ${annotations(50)}, "info": "caf\u00e9"}`,
        'latin1',
      )
      const at = text.indexOf(0xe9)
      const file = join(work, 'latin1.json')
      writeFileSync(file, text)
      const err = await importCoco(project, file, { chunkSize: 64 }).catch((e: unknown) => e)
      expect((err as Error).message).toMatch(new RegExp(`not UTF-8 text \\(byte 0xE9 at offset ${at} is not valid`))
      expect(at).toBeGreaterThan(1000)
    } finally {
      project.close()
    }
  })
})
