// COCO import into a real project: matching, category merge, geometry recomputed, errors that
// name the entry, all-or-nothing writes, and export -> import -> export giving the same masks.

import Database from 'better-sqlite3'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportCoco } from '../../../src-main/core/coco/export-coco.ts'
import { importCoco } from '../../../src-main/core/coco/import-coco.ts'
import { UserError } from '../../../src-main/core/errors.ts'
import type { Project } from '../../../src-main/core/project/project.ts'
import { rleEncode, rleToString } from '../../../src-main/core/segment/rle.ts'
import { frPolygons, iou, type CocoRle } from '../../helpers/pycocotools.ts'
import { decodeRleString, makeFolder, minIou, openScanned, seedAnnotations } from './helpers.ts'
import { watchEventLoop } from '../../helpers/event-loop.ts'

let work: string
let folder: string
let source: Project

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sam-coco-import-'))
  folder = await makeFolder()
  source = await openScanned(folder)
  await seedAnnotations(source)
})

afterAll(() => {
  source?.close()
  for (const dir of [folder, work]) if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A fresh project over a copy of the same images, without annotations. */
async function freshProject(): Promise<{ project: Project; dir: string }> {
  const dir = mkdtempSync(join(work, 'p-'))
  cpSync(folder, dir, { recursive: true, filter: (src) => !src.includes('.sam-annotator') && !src.endsWith('.json') })
  return { project: await openScanned(dir), dir }
}

function writeJson(name: string, data: unknown): string {
  const file = join(work, name)
  writeFileSync(file, JSON.stringify(data))
  return file
}

interface CocoAnn {
  id: number
  image_id: number
  category_id: number
  segmentation: number[][] | { size: [number, number]; counts: string }
  area: number
  bbox: number[]
}
interface CocoFile {
  images: { id: number; file_name: string; width: number; height: number }[]
  categories: { id: number; name: string }[]
  annotations: CocoAnn[]
}

function mask(a: CocoAnn, h: number, w: number): CocoRle {
  return Array.isArray(a.segmentation)
    ? frPolygons(a.segmentation, h, w)
    : { h, w, cnts: decodeRleString(a.segmentation.counts) }
}

const base = () => ({
  images: [{ id: 1, file_name: 'a.png', width: 640, height: 480 }],
  categories: [{ id: 1, name: 'cat' }],
  annotations: [
    {
      id: 10,
      image_id: 1,
      category_id: 1,
      segmentation: [[10, 10, 60, 10, 60, 40, 10, 40]],
      area: 1,
      bbox: [0, 0, 1, 1],
      iscrowd: 0,
    },
  ],
})

describe('importCoco', () => {
  it('export -> import -> export gives back the same geometry (polygons IoU >= 0.99, RLE identical)', async () => {
    const first = join(work, 'first.json')
    await exportCoco(source, first)
    const { project } = await freshProject()
    try {
      const result = await importCoco(project, first)
      const exported = JSON.parse((await import('node:fs')).readFileSync(first, 'utf8')) as CocoFile
      expect(result.imported).toBe(exported.annotations.length)
      expect(result.skippedImages).toEqual([])
      expect(result.categoriesCreated.sort()).toEqual(['cat', 'dog', 'tree'])
      expect(project.listCategories().find((c) => c.name === 'tree')?.supercategory).toBe('plant')
      const second = join(work, 'second.json')
      await exportCoco(project, second)
      const again = JSON.parse((await import('node:fs')).readFileSync(second, 'utf8')) as CocoFile
      expect(again.annotations).toHaveLength(exported.annotations.length)
      // Match by image file and order within the image (ids are the new project's own).
      const key = (f: CocoFile, a: CocoAnn) => f.images.find((i) => i.id === a.image_id)?.file_name
      const group = (f: CocoFile) => {
        const m = new Map<string, CocoAnn[]>()
        for (const a of f.annotations) m.set(key(f, a) as string, [...(m.get(key(f, a) as string) ?? []), a])
        return m
      }
      const g1 = group(exported),
        g2 = group(again)
      for (const [file, list] of g1) {
        const image = exported.images.find((i) => i.file_name === file)!
        const other = g2.get(file)!
        expect(other).toHaveLength(list.length)
        list.forEach((a, i) => {
          const b = other[i]
          expect(exported.categories.find((c) => c.id === a.category_id)?.name).toBe(
            again.categories.find((c) => c.id === b.category_id)?.name,
          )
          expect(Array.isArray(b.segmentation)).toBe(Array.isArray(a.segmentation))
          const v = iou(mask(a, image.height, image.width), mask(b, image.height, image.width))
          expect(b.segmentation).toEqual(a.segmentation)
          if (Array.isArray(a.segmentation)) {
            expect(v).toBeGreaterThanOrEqual(minIou(a.area))
            // Import measures the rounded polygon; the annotate path measured the shape before
            // rounding its vertices to 2 decimals, so a pixel on the outline may differ.
            expect(Math.abs(b.area - a.area)).toBeLessThanOrEqual(Math.max(2, 0.002 * a.area))
            b.bbox.forEach((x, k) => expect(Math.abs(x - a.bbox[k])).toBeLessThanOrEqual(1))
          } else {
            expect(v).toBe(1)
            expect(b.area).toBe(a.area)
            expect(b.bbox).toEqual(a.bbox)
          }
        })
      }
      // A second import of the same file adds nothing.
      const twice = await importCoco(project, first)
      expect(twice.imported).toBe(0)
      expect(twice.skippedAnnotations.duplicates).toBe(exported.annotations.length)
    } finally {
      project.close()
    }
  })

  it('matches by path, then by a unique base name; names the images it skipped; merges categories by name', async () => {
    const { project } = await freshProject()
    try {
      const existing = await project.ensureCategory('Cat')
      const square = (x: number) => [[x, 5, x + 20, 5, x + 20, 25, x, 25]]
      const rle = rleEncode(
        new Uint8Array(96 * 128).map((_, i) => (i % 96 < 30 && Math.floor(i / 96) < 40 ? 1 : 0)),
        96,
        128,
      )
      const file = writeJson('match.json', {
        images: [
          { id: 1, file_name: 'a.png', width: 640, height: 480 },
          { id: 2, file_name: 'elsewhere\\b.png', width: 400, height: 300 },
          { id: 3, file_name: 'c.png', width: 96, height: 128 },
          { id: 4, file_name: 'not-here.png', width: 10, height: 10 },
          { id: 5, file_name: 'sub/b.png', width: 999, height: 300 },
        ],
        categories: [
          { id: 7, name: 'cat' },
          { id: 8, name: 'bird', supercategory: 'animal' },
        ],
        annotations: [
          { id: 1, image_id: 1, category_id: 7, segmentation: square(10), area: 0, bbox: [0, 0, 0, 0], iscrowd: 0 },
          { id: 2, image_id: 2, category_id: 8, segmentation: square(30), area: 0, bbox: [0, 0, 0, 0], iscrowd: 0 },
          // Uncompressed RLE (as iscrowd files carry it) and compressed RLE.
          { id: 3, image_id: 3, category_id: 8, segmentation: { size: [128, 96], counts: rle.counts }, iscrowd: 1 },
          { id: 4, image_id: 3, category_id: 7, segmentation: rleToString(rle), iscrowd: 0 },
          { id: 5, image_id: 4, category_id: 7, segmentation: square(1) },
          { id: 6, image_id: 5, category_id: 7, segmentation: square(1) },
          // A bbox without segmentation becomes its rectangle.
          { id: 7, image_id: 1, category_id: 8, bbox: [100, 100, 30, 20] },
        ],
      })
      const result = await importCoco(project, file)
      expect(result.imported).toBe(5)
      expect(result.matchedImages).toBe(3)
      expect(result.skippedImages.map((s) => [s.fileName, s.reason])).toEqual([
        ['not-here.png', 'not-in-project'],
        ['sub/b.png', 'size-differs'],
      ])
      expect(result.skippedAnnotations.onSkippedImages).toBe(2)
      expect(result.categoriesCreated).toEqual(['bird'])
      expect(result.fromBbox).toBe(1)
      expect(result.crowd).toBe(1)
      const cats = project.listCategories()
      expect(cats.map((c) => c.name).sort()).toEqual(['Cat', 'bird'])
      expect(cats.find((c) => c.name === 'bird')?.supercategory).toBe('animal')
      const a = project.listAnnotations(project.imageByPath('a.png')!.id)
      expect(a.map((x) => [x.categoryId, x.area, x.bbox])).toEqual([
        [existing.id, 400, [10, 5, 20, 20]],
        [cats.find((c) => c.name === 'bird')!.id, 600, [100, 100, 30, 20]],
      ])
      const b = project.listAnnotations(project.imageByPath('sub/b.png')!.id)
      expect(b).toHaveLength(1)
      const c = project.listAnnotations(project.imageByPath('sub/deeper/c.png')!.id)
      expect(c.map((x) => [x.area, x.bbox, x.segmentation])).toEqual([
        [1200, [0, 0, 30, 40], rleToString(rle)],
        [1200, [0, 0, 30, 40], rleToString(rle)],
      ])
    } finally {
      project.close()
    }
  })

  it.each([
    [
      'polygon with 2 points',
      (d: ReturnType<typeof base>) => {
        d.annotations[0].segmentation = [[1, 1, 5, 5]]
      },
      /: annotations\[0\] \(id 10\): segmentation polygon has 2 points/,
    ],
    [
      'unknown image',
      (d: ReturnType<typeof base>) => {
        d.annotations[0].image_id = 77
      },
      /annotations\[0\] \(id 10\): image_id 77 not in images/,
    ],
    [
      'unknown category',
      (d: ReturnType<typeof base>) => {
        d.annotations[0].category_id = 3
      },
      /annotations\[0\] \(id 10\): category_id 3 not in categories/,
    ],
    [
      'category without name',
      (d: ReturnType<typeof base>) => {
        d.categories.push({ id: 2 } as { id: number; name: string })
      },
      /categories\[1\] \(id 2\): name missing/,
    ],
    [
      'duplicate image id',
      (d: ReturnType<typeof base>) => {
        d.images.push({ ...d.images[0], file_name: 'x.png' })
      },
      /images\[1\] \(id 1\): id 1 is also used by images\[0\]/,
    ],
    [
      'non-numeric coordinate',
      (d: ReturnType<typeof base>) => {
        ;(d.annotations[0].segmentation[0] as unknown[])[3] = 'x'
      },
      /segmentation polygon value 3 \("x"\) is not a finite number/,
    ],
    [
      'RLE that does not cover its size',
      (d: ReturnType<typeof base>) => {
        ;(d.annotations[0] as { segmentation: unknown }).segmentation = { size: [480, 640], counts: [10, 5] }
      },
      /RLE counts cover 15 pixels, but the size \[480, 640\] has 307200/,
    ],
    [
      'RLE of another size',
      (d: ReturnType<typeof base>) => {
        ;(d.annotations[0] as { segmentation: unknown }).segmentation = { size: [48, 64], counts: [3072] }
      },
      /RLE size \[48, 64\] does not match its image/,
    ],
    [
      'missing annotations list',
      (d: ReturnType<typeof base>) => {
        delete (d as { annotations?: unknown }).annotations
      },
      /: annotations: missing/,
    ],
  ])('refuses malformed COCO (%s), naming the entry, and changes nothing', async (_name, spoil, message) => {
    const { project } = await freshProject()
    try {
      const doc = base()
      spoil(doc)
      const file = writeJson('bad.json', doc)
      const err = await importCoco(project, file).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UserError)
      expect((err as Error).message).toContain(file)
      expect((err as Error).message).toMatch(message)
      expect(project.counts().annotations).toBe(0)
      expect(project.listCategories()).toEqual([])
    } finally {
      project.close()
    }
  })

  it('refuses a file that is not JSON, naming it', async () => {
    const { project } = await freshProject()
    try {
      const file = join(work, 'broken.json')
      writeFileSync(file, '{"images": [')
      await expect(importCoco(project, file)).rejects.toThrow(
        new RegExp(`${file.replace(/[.\\/]/g, '\\$&')}: not valid JSON`),
      )
    } finally {
      project.close()
    }
  })

  it('refuses a polygon too tangled to rasterise in bounded time, naming the entry (no stall)', async () => {
    const { project } = await freshProject()
    try {
      // 10^5 vertices zigzagging across the 640-pixel-wide a.png: about 6 * 10^7 edge/column
      // crossings, which held the process for tens of seconds before the cost was bounded.
      const zigzag: number[] = []
      for (let i = 0; i < 100_000; i++) zigzag.push(i % 2 === 0 ? 0.5 : 639.5, 1 + (i / 100_000) * 470)
      // Back down the left edge, so the ring encloses area (a bare zigzag's cancels out).
      zigzag.push(0.5, 479)
      const file = writeJson('tangled.json', {
        images: [{ id: 1, file_name: 'a.png', width: 640, height: 480 }],
        categories: [{ id: 1, name: 'tangle' }],
        annotations: [{ id: 9, image_id: 1, category_id: 1, segmentation: [zigzag], area: 1, bbox: [0, 0, 1, 1] }],
      })
      await expect(importCoco(project, file)).rejects.toThrow(/annotations\[0\] \(id 9\): segmentation is too tangled/)
      expect(project.listCategories().map((c) => c.name)).not.toContain('tangle')
    } finally {
      project.close()
    }
  })

  it('lands whole or not at all: a failure mid-way leaves no annotation and no new category', async () => {
    const { project } = await freshProject()
    try {
      const doc = base()
      doc.categories.push({ id: 2, name: 'new one' })
      for (let i = 0; i < 20; i++) {
        doc.annotations.push({
          ...doc.annotations[0],
          id: 100 + i,
          category_id: i % 2 ? 2 : 1,
          segmentation: [[i, 0, i + 30, 0, i + 30, 30]],
        })
      }
      const file = writeJson('partial.json', doc)
      // The store refuses the 12th annotation staged (a fault at the true boundary: the store call).
      const target = project
      let saves = 0
      const failing = Object.assign(Object.create(target) as typeof target, {
        stageImport: () => {
          const stage = target.stageImport()
          return {
            ...stage,
            addAnnotation: (input: Parameters<typeof stage.addAnnotation>[0]) => {
              if (++saves === 12) throw new UserError('disk-full', 'the disk is full; the change was not saved')
              stage.addAnnotation(input)
            },
          }
        },
      })
      const err = await importCoco(failing, file).catch((e: unknown) => e)
      expect((err as Error).message).toMatch(/annotations\[11\] \(id 110\): the disk is full/)
      expect(saves).toBe(12)
      expect(project.counts().annotations).toBe(0)
      expect(project.listCategories()).toEqual([])
      // The same file imports fine afterwards.
      const ok = await importCoco(target, file)
      expect(ok.imported).toBe(21)
      expect(project.counts().annotations).toBe(21)
    } finally {
      project.close()
    }
  })
})

/** `n` distinct rectangles on a.png (640x480) over two categories, one of them new. */
function manyAnnotations(n: number): ReturnType<typeof base> {
  const doc = base()
  doc.categories.push({ id: 2, name: 'many' })
  doc.annotations = []
  for (let i = 0; i < n; i++) {
    const x = i % 400
    const y = Math.floor(i / 400) % 300
    doc.annotations.push({
      id: i + 1,
      image_id: 1,
      category_id: 1 + (i % 2),
      segmentation: [[x, y, x + 230, y, x + 230, y + 170, x, y + 170]],
      area: 1,
      bbox: [0, 0, 1, 1],
      iscrowd: 0,
    })
  }
  return doc
}

/** The TEMP tables on the project's own connection (a staged import's are dropped afterwards). */
function tempTables(project: Project): string[] {
  const db = (project as unknown as { db: import('better-sqlite3').Database }).db
  return (db.prepare("SELECT name FROM sqlite_temp_schema WHERE type = 'table'").all() as { name: string }[]).map(
    (r) => r.name,
  )
}

describe('importCoco in a process that must stay responsive (the app)', () => {
  it('yields to the event loop while an import of thousands of annotations is prepared', async () => {
    const { project } = await freshProject()
    try {
      const file = writeJson('many.json', manyAnnotations(8000))
      const { value: result, ticks, maxGapMs } = await watchEventLoop(() => importCoco(project, file))
      expect(result.imported).toBe(8000)
      expect(project.counts().annotations).toBe(8000)
      expect(result.categoriesCreated).toEqual(['cat', 'many'])
      // Done in one go this took seconds with no tick at all; sliced, ticks keep coming.
      expect(maxGapMs).toBeLessThan(500)
      expect(ticks).toBeGreaterThan(5)
      expect(tempTables(project)).toEqual([])
    } finally {
      project.close()
    }
  })

  it('lands whole or not at all: a bad entry near the end leaves no annotation, no category, no staging', async () => {
    const { project } = await freshProject()
    try {
      const doc = manyAnnotations(3000)
      // Refused only when its geometry is prepared (not by the parser): a polygon too tangled
      // to rasterise, 10 entries before the end.
      const zigzag: number[] = []
      for (let i = 0; i < 100_000; i++) zigzag.push(i % 2 === 0 ? 0.5 : 639.5, 1 + (i / 100_000) * 470)
      zigzag.push(0.5, 479)
      doc.annotations[2990].segmentation = [zigzag]
      const file = writeJson('bad-near-end.json', doc)
      const err = await importCoco(project, file).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UserError)
      expect((err as Error).message).toMatch(/annotations\[2990\] \(id 2991\): segmentation is too tangled/)
      expect(project.counts().annotations).toBe(0)
      expect(project.listCategories()).toEqual([])
      expect(project.listImages().find((i) => i.path === 'a.png')?.status).toBe('new')
      expect(tempTables(project)).toEqual([])
    } finally {
      project.close()
    }
  })

  it('a cancelled import writes nothing', async () => {
    const { project } = await freshProject()
    try {
      const file = writeJson('cancel.json', manyAnnotations(3000))
      const abort = new AbortController()
      let seen = 0
      const err = await importCoco(project, file, {
        signal: abort.signal,
        onProgress: (done) => {
          seen = done
          if (done >= 1000) abort.abort()
        },
      }).catch((e: unknown) => e)
      expect(seen).toBeGreaterThanOrEqual(1000)
      expect((err as UserError).code).toBe('cancelled')
      expect(project.counts().annotations).toBe(0)
      expect(project.listCategories()).toEqual([])
      expect(tempTables(project)).toEqual([])
    } finally {
      project.close()
    }
  })

  it('merges thousands of categories by name with a fixed number of statements on the categories table', async () => {
    const { project } = await freshProject()
    try {
      await project.createCategory({ name: 'Cat' })
      const doc = base()
      for (let i = 2; i <= 5000; i++) doc.categories.push({ id: i, name: `kind ${i}` })
      doc.annotations[0].category_id = 4321
      const file = writeJson('categories.json', doc)
      // Every statement the store runs, by its SQL, counted through better-sqlite3's own
      // Statement methods (called through, not replaced).
      const probe = new Database(':memory:')
      const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>
      probe.close()
      const statements: string[] = []
      const originals = new Map<string, (...args: unknown[]) => unknown>()
      for (const method of ['run', 'get', 'all', 'iterate']) {
        const original = proto[method] as (...args: unknown[]) => unknown
        originals.set(method, original)
        proto[method] = function (this: { source: string }, ...args: unknown[]) {
          statements.push(this.source)
          return original.apply(this, args)
        }
      }
      let result
      try {
        result = await importCoco(project, file)
      } finally {
        for (const [method, original] of originals) proto[method] = original
      }
      expect(result.categoriesCreated).toHaveLength(4999)
      expect(result.imported).toBe(1)
      const categories = project.listCategories()
      expect(categories).toHaveLength(5000)
      expect(categories.map((c) => c.order)).toEqual(categories.map((_, i) => i))
      // Colours cycle in creation order, as one createCategory after another would give them.
      const palette = categories.slice(0, 20).map((c) => c.color)
      expect(new Set(palette).size).toBe(20)
      categories.forEach((c, i) => expect(c.color).toBe(palette[i % 20]))
      const used = project.getAnnotation(project.listAnnotations(project.listImages()[0].id)[0].id)
      expect(categories.find((c) => c.id === used.categoryId)?.name).toBe('kind 4321')
      // Not one lookup, count or insert on the categories table per category of the file.
      const onCategories = statements.filter((sql) => /\bcategories\b/.test(sql))
      expect(onCategories.length).toBeLessThan(20)
    } finally {
      project.close()
    }
  })
})
