// YOLO segmentation export from a real project: label files read back and rasterised
// (pycocotools port) against the saved masks, class indices, data.yaml, image links.

import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportYolo, labelPath, type YoloSource } from '../../../src-main/core/coco/export-yolo.ts'
import type { Project } from '../../../src-main/core/project/project.ts'
import { frPolygons, iou, merge } from '../../helpers/pycocotools.ts'
import { BROKEN, IMAGES, makeFolder, minIou, openScanned, savedMask, seedAnnotations, type Saved } from './helpers.ts'
import { watchEventLoop } from '../../helpers/event-loop.ts'

let folder: string
let project: Project
let saved: Saved[]

beforeAll(async () => {
  folder = await makeFolder()
  project = await openScanned(folder)
  saved = await seedAnnotations(project)
})

afterAll(() => {
  project?.close()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

describe('exportYolo', () => {
  it('maps image paths to label paths', () => {
    expect(labelPath('a/b/c.d.jpg')).toBe('a/b/c.d.txt')
    expect(labelPath('x.png')).toBe('x.txt')
    expect(labelPath('dir.v2/noext')).toBe('dir.v2/noext.txt')
  })

  it('writes normalised polygons per image that rasterise back to the saved masks', async () => {
    const out = join(folder, 'yolo')
    const result = await exportYolo(project, out, { imagesFolder: project.folder })
    expect(result.images).toBe(IMAGES.length)
    expect(result.skippedImagePaths).toEqual([BROKEN])
    const withHoles = saved.filter((s) => s.hasHoles)
    expect(result.annotationsWithHolesDropped).toBe(withHoles.length)
    expect(result.annotations).toBe(saved.length)

    const categories = project.listCategories()
    const data = yaml.load(readFileSync(join(out, 'data.yaml'), 'utf8')) as {
      path: string
      train: string
      val: string
      names: Record<number, string>
    }
    expect(data.train).toBe('images')
    expect(data.val).toBe('images')
    expect(data.path).toBe(result.outDir)
    expect(data.names).toEqual(Object.fromEntries(categories.map((c, i) => [i, c.name])))

    for (const image of IMAGES) {
      // The image is reachable under images/, where Ultralytics looks for it.
      expect(realpathSync(join(out, 'images', image.path))).toBe(realpathSync(join(folder, image.path)))
      const text = readFileSync(join(out, 'labels', labelPath(image.path)), 'utf8')
      const lines = text
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
      const mine = saved.filter((s) => s.image === image)
      // One line per part: the two-part object writes two lines.
      expect(lines).toHaveLength(mine.reduce((n, s) => n + s.shape.parts.length, 0))
      let li = 0
      for (const s of mine) {
        const cls = categories.findIndex((c) => c.id === s.annotation.categoryId)
        const rings: number[][] = []
        for (let p = 0; p < s.shape.parts.length; p++) {
          const [c, ...coords] = lines[li++]
          expect(Number(c)).toBe(cls)
          expect(coords.length % 2).toBe(0)
          expect(coords.length).toBeGreaterThanOrEqual(6)
          const values = coords.map(Number)
          for (const v of values) {
            expect(v).toBeGreaterThanOrEqual(0)
            expect(v).toBeLessThanOrEqual(1)
          }
          rings.push(values.map((v, i) => v * (i % 2 === 0 ? image.width : image.height)))
        }
        const back = merge(rings.map((r) => frPolygons([r], image.height, image.width)))
        expect(iou(back, savedMask(s, true)), `annotation ${s.annotation.id}`).toBeGreaterThanOrEqual(
          minIou(s.annotation.area),
        )
      }
    }
    // No label for the unreadable image.
    expect(existsSync(join(out, 'labels', labelPath(BROKEN)))).toBe(false)
  })

  it('rewrites labels on a second export, empty for an image that lost its annotations', async () => {
    const out = join(folder, 'yolo2')
    await exportYolo(project, out, { imagesFolder: project.folder })
    const image = project.imageByPath('sub/deeper/c.png')!
    const removed = project.listAnnotations(image.id)
    for (const a of removed) await project.deleteAnnotation(a.id)
    try {
      const second = await exportYolo(project, out, { imagesFolder: project.folder })
      expect(readFileSync(join(out, 'labels', 'sub/deeper/c.txt'), 'utf8')).toBe('')
      expect(second.copiedImages).toBe(0)
    } finally {
      for (const a of removed)
        await project.saveAnnotation({
          imageId: a.imageId,
          categoryId: a.categoryId,
          segmentation: a.segmentation,
          bbox: a.bbox,
          area: a.area,
          score: a.score,
          prompt: a.prompt,
          modelId: a.modelId,
        })
    }
  })
})

describe('exportYolo streams', () => {
  let many: Project
  let manyFolder: string

  beforeAll(async () => {
    manyFolder = await makeFolder(
      Array.from({ length: 120 }, (_, i) => ({ path: `m/img${i}.png`, width: 16, height: 12 })),
      false,
    )
    many = await openScanned(manyFolder)
    const category = await many.ensureCategory('thing')
    await many.transaction((tx) => {
      for (const image of many.listImages())
        tx.saveAnnotation({
          imageId: image.id,
          categoryId: category.id,
          segmentation: [[1, 1, 10, 1, 10, 8]],
          bbox: [1, 1, 9, 7],
          area: 30,
          score: null,
          prompt: null,
          modelId: 'test',
        })
    })
  })

  afterAll(() => {
    many?.close()
    if (manyFolder) rmSync(manyFolder, { recursive: true, force: true })
  })

  /** `many` read an image at a time, `delayMs` of work per image, failing at image `failAt`. */
  function source(out: string, delayMs: number, failAt = -1, order: number[] = []): YoloSource {
    return {
      folder: many.folder,
      dbPath: many.dbPath,
      listImages: () => many.listImages(),
      listCategories: () => many.listCategories(),
      counts: () => many.counts(),
      iterateAnnotationGeometry: () => {
        throw new Error('the YOLO export reads an image at a time')
      },
      annotationGeometryOf: (imageId) => {
        // The label of the image before is on disk already: nothing is held back until the end.
        const staging = readdirSync(out).find((n) => n.startsWith('.sam-annotator-staging-'))
        const previous = many.listImages().find((i) => i.id === order[order.length - 1])
        if (previous && staging)
          expect(existsSync(join(out, staging, 'labels', ...labelPath(previous.path).split('/')))).toBe(true)
        order.push(imageId)
        if (order.length === failAt) throw new Error('disk gone')
        const until = performance.now() + delayMs
        while (performance.now() < until); // work that holds the thread, as a large image's labels do
        return many.annotationGeometryOf(imageId)
      },
    }
  }

  it('writes each label before reading the next image, and yields to the event loop meanwhile', async () => {
    const out = join(manyFolder, 'yolo-stream')
    const order: number[] = []
    const {
      value: result,
      ticks,
      maxGapMs,
    } = await watchEventLoop(() => exportYolo(source(out, 3, -1, order), out, { imagesFolder: many.folder }))
    expect(result.annotations).toBe(120)
    expect(result.labelFiles).toBe(120)
    expect(order.length).toBe(120)
    // 120 x 3 ms of work: in one go that was one gap of 360 ms with no tick.
    expect(maxGapMs).toBeLessThan(100)
    expect(ticks).toBeGreaterThan(20)
    expect(readFileSync(join(out, 'labels', 'm', 'img7.txt'), 'utf8')).toMatch(/^0 0\.0625/)
  })

  it('stays all or nothing: a failure half-way leaves the previous export as it was', async () => {
    const out = join(manyFolder, 'yolo-atomic')
    await exportYolo(many, out, { imagesFolder: many.folder })
    const before = readFileSync(join(out, 'labels', 'm', 'img7.txt'), 'utf8')
    await expect(exportYolo(source(out, 0, 60), out, { imagesFolder: many.folder })).rejects.toThrow(/disk gone/)
    expect(readFileSync(join(out, 'labels', 'm', 'img7.txt'), 'utf8')).toBe(before)
    expect(readdirSync(out).filter((n) => n.startsWith('.sam-annotator-staging-'))).toEqual([])
  })
})
