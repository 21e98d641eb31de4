// COCO export from a real project, validated independently of the exporter: every exported
// segmentation is rasterised again (polygons with the pycocotools port, RLE with a decoder
// written in the test) and compared with the mask that was saved.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportCoco, type CocoExportResult } from '../../../src-main/core/coco/export-coco.ts'
import type { ExportSource } from '../../../src-main/core/coco/source.ts'
import { syntheticSource } from '../../helpers/synthetic.ts'
import { UserError } from '../../../src-main/core/errors.ts'
import type { Project } from '../../../src-main/core/project/project.ts'
import { rasterizeShape } from '../../../src-main/core/segment/rle.ts'
import { area, frPolygons, iou, toBbox, type CocoRle } from '../../helpers/pycocotools.ts'
import {
  BROKEN,
  IMAGES,
  decodeRleString,
  minIou,
  makeFolder,
  openScanned,
  savedMask,
  seedAnnotations,
  type Saved,
} from './helpers.ts'

interface CocoFile {
  info: Record<string, unknown>
  licenses: unknown[]
  images: { id: number; file_name: string; width: number; height: number }[]
  categories: { id: number; name: string; supercategory: string }[]
  annotations: {
    id: number
    image_id: number
    category_id: number
    segmentation: number[][] | { size: [number, number]; counts: string }
    area: number
    bbox: [number, number, number, number]
    iscrowd: number
  }[]
}

type CocoAnnotation = CocoFile['annotations'][number]

let folder: string
let project: Project
let saved: Saved[]

beforeAll(async () => {
  folder = await makeFolder()
  project = await openScanned(folder)
  saved = await seedAnnotations(project)
  // An annotation on the unreadable image: kept in the project, left out of the export.
  const broken = project.imageByPath(BROKEN)
  if (!broken) throw new Error('broken image not listed')
  await project.saveAnnotation({
    imageId: broken.id,
    categoryId: saved[0].annotation.categoryId,
    segmentation: [[1, 1, 5, 1, 5, 5]],
    bbox: [1, 1, 4, 4],
    area: 8,
    score: null,
    prompt: null,
    modelId: null,
  })
})

afterAll(() => {
  project?.close()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

async function exportTo(
  name: string,
  segmentation: 'auto' | 'polygon' | 'rle',
): Promise<{ file: CocoFile; result: CocoExportResult; text: string }> {
  const out = join(folder, name)
  const result = await exportCoco(project, out, { segmentation })
  const text = readFileSync(out, 'utf8')
  return { file: JSON.parse(text) as CocoFile, result, text }
}

/** The exported segmentation rasterised independently (pycocotools polygons, or the RLE decoded). */
function independentMask(a: CocoAnnotation, width: number, height: number): CocoRle {
  if (Array.isArray(a.segmentation)) return frPolygons(a.segmentation, height, width)
  expect(a.segmentation.size).toEqual([height, width])
  return { h: height, w: width, cnts: decodeRleString(a.segmentation.counts) }
}

function checkStructure(file: CocoFile): void {
  expect(file.licenses).toEqual([])
  expect(String(file.info.coordinates)).toMatch(/EXIF/)
  expect(String(file.info.coordinates)).toMatch(/\[0,1\)x\[0,1\)/)
  expect(typeof file.info.date_created).toBe('string')
  const imageIds = new Set(file.images.map((i) => i.id))
  expect(imageIds.size).toBe(file.images.length)
  expect(new Set(file.annotations.map((a) => a.id)).size).toBe(file.annotations.length)
  const categoryIds = new Set(file.categories.map((c) => c.id))
  for (const a of file.annotations) {
    expect(imageIds.has(a.image_id)).toBe(true)
    expect(categoryIds.has(a.category_id)).toBe(true)
    expect(a.iscrowd).toBe(0)
  }
}

describe('exportCoco', () => {
  it('writes images, categories and annotations that agree with the saved masks (auto)', async () => {
    const { file, result } = await exportTo('auto.json', 'auto')
    checkStructure(file)
    expect(file.images.map((i) => i.file_name).sort()).toEqual(IMAGES.map((i) => i.path).sort())
    for (const spec of IMAGES) {
      const image = file.images.find((i) => i.file_name === spec.path)
      expect(image).toMatchObject({ width: spec.width, height: spec.height, id: project.imageByPath(spec.path)?.id })
    }
    expect(file.categories).toEqual(
      project.listCategories().map((c) => ({ id: c.id, name: c.name, supercategory: c.supercategory ?? '' })),
    )
    expect(file.categories.find((c) => c.name === 'tree')?.supercategory).toBe('plant')
    expect(result.skippedImages).toBe(1)
    expect(result.skippedImagePaths).toEqual([BROKEN])
    expect(result.skippedAnnotations.onSkippedImages).toBe(1)
    expect(file.annotations).toHaveLength(saved.length)

    let rleCount = 0
    for (const s of saved) {
      const a = file.annotations.find((x) => x.id === s.annotation.id) as CocoAnnotation
      expect(a, `annotation ${s.annotation.id}`).toBeDefined()
      expect(a.image_id).toBe(s.annotation.imageId)
      // Objects with holes are RLE, the others polygons.
      expect(Array.isArray(a.segmentation)).toBe(!s.hasHoles)
      const mask = independentMask(a, s.image.width, s.image.height)
      const reference = savedMask(s)
      expect(iou(mask, reference), `IoU of annotation ${a.id}`).toBeGreaterThanOrEqual(minIou(s.annotation.area))
      if (Array.isArray(a.segmentation)) {
        for (const ring of a.segmentation) {
          expect(ring.length).toBeGreaterThanOrEqual(6)
          expect(ring.length % 2).toBe(0)
          ring.forEach((v, i) => {
            expect(v).toBeGreaterThanOrEqual(0)
            expect(v).toBeLessThanOrEqual(i % 2 === 0 ? s.image.width : s.image.height)
          })
        }
        // area and bbox are those of the polygon's pixel-centre mask, as saved: computed
        // before the vertices were rounded to 2 decimals (segment/segmentation.ts), so a pixel
        // whose centre lies within 0.005 px of the outline may differ. pycocotools' own
        // rasterisation of the same polygon rounds the outline differently, by a sliver.
        const ours = rasterizeShape(
          { parts: a.segmentation.map((outer) => ({ outer, holes: [] })) },
          s.image.width,
          s.image.height,
        )
        const oursArea = ours.counts.filter((_, i) => i % 2 === 1).reduce((x, y) => x + y, 0)
        expect(Math.abs(a.area - oursArea)).toBeLessThanOrEqual(Math.max(2, 0.002 * a.area))
        expect(Math.abs(a.area - area(mask)) / a.area).toBeLessThan(0.03)
        const pb = toBbox(mask)
        a.bbox.forEach((v, i) => expect(Math.abs(v - pb[i])).toBeLessThanOrEqual(1))
      } else {
        rleCount++
        expect(a.area).toBe(area(mask))
        expect(a.bbox).toEqual(toBbox(mask))
        expect(iou(mask, reference)).toBe(1)
      }
    }
    expect(rleCount).toBeGreaterThan(0)
  })

  it('keeps ids and content stable from one export to the next', async () => {
    const first = await exportTo('stable1.json', 'auto')
    const second = await exportTo('stable2.json', 'auto')
    const strip = (f: CocoFile) => ({ ...f, info: { ...f.info, date_created: null } })
    expect(strip(second.file)).toEqual(strip(first.file))
    expect(first.file.annotations.map((a) => a.id)).toEqual(saved.map((s) => s.annotation.id))
  })

  it("writes every annotation as RLE in 'rle' mode, pixel-identical to the saved mask", async () => {
    const { file } = await exportTo('rle.json', 'rle')
    checkStructure(file)
    for (const s of saved) {
      const a = file.annotations.find((x) => x.id === s.annotation.id) as CocoAnnotation
      expect(Array.isArray(a.segmentation)).toBe(false)
      const mask = independentMask(a, s.image.width, s.image.height)
      // The saved mask: the stored segmentation (rounded polygons, or the RLE) by pixel centres.
      const stored = s.annotation.segmentation
      const reference = Array.isArray(stored)
        ? rasterizeShape({ parts: stored.map((outer) => ({ outer, holes: [] })) }, s.image.width, s.image.height)
        : null
      expect(
        iou(mask, reference ? { h: reference.size[0], w: reference.size[1], cnts: reference.counts } : savedMask(s)),
      ).toBe(1)
      expect(a.area).toBe(area(mask))
      expect(a.bbox).toEqual(toBbox(mask))
    }
  })

  it("drops holes in 'polygon' mode and says how many annotations lost them", async () => {
    const { file, result } = await exportTo('polygon.json', 'polygon')
    checkStructure(file)
    const withHoles = saved.filter((s) => s.hasHoles)
    expect(withHoles.length).toBeGreaterThan(0)
    expect(result.annotationsWithHolesDropped).toBe(withHoles.length)
    expect(result.holesDropped).toBe(withHoles.length)
    for (const s of saved) {
      const a = file.annotations.find((x) => x.id === s.annotation.id) as CocoAnnotation
      expect(Array.isArray(a.segmentation)).toBe(true)
      const mask = independentMask(a, s.image.width, s.image.height)
      // Traced from the RLE: the outer outline of the saved mask, holes filled.
      expect(iou(mask, savedMask(s, true)), `IoU of annotation ${a.id}`).toBeGreaterThanOrEqual(
        minIou(s.annotation.area),
      )
      for (const ring of a.segmentation as number[][]) expect(ring.length).toBeGreaterThanOrEqual(6)
    }
  })

  it('clamps polygons that stray outside the image and recomputes area and bbox', async () => {
    const image = project.imageByPath('a.png')
    const cat = project.listCategories()[0]
    // Saved by hand with measures that do not fit: the export must not trust them.
    const stray = await project.saveAnnotation({
      imageId: image!.id,
      categoryId: cat.id,
      segmentation: [
        [-10, -10, 50, -10, 50, 30, -10, 30],
        [630, 470, 650, 470, 650, 490, 630, 490],
        [1, 1, 2, 2, 3, 3],
      ],
      bbox: [0, 0, 1, 1],
      area: 5,
      score: null,
      prompt: null,
      modelId: null,
    })
    try {
      const { file } = await exportTo('clamped.json', 'auto')
      const a = file.annotations.find((x) => x.id === stray.id) as CocoAnnotation
      // The collinear ring is dropped; the others are clamped into [0, 640] x [0, 480].
      expect(a.segmentation).toEqual([
        [0, 0, 50, 0, 50, 30, 0, 30],
        [630, 470, 640, 470, 640, 480, 630, 480],
      ])
      expect(a.area).toBe(50 * 30 + 10 * 10)
      expect(a.bbox).toEqual([0, 0, 640, 480])
    } finally {
      await project.deleteAnnotation(stray.id)
    }
  })

  it('writes atomically: a failed export leaves the previous file intact and no temp file', async () => {
    const out = join(folder, 'atomic.json')
    await exportCoco(project, out)
    const before = readFileSync(out, 'utf8')
    const failing: ExportSource = {
      listImages: () => project.listImages(),
      listCategories: () => project.listCategories(),
      *iterateAnnotationGeometry() {
        let n = 0
        for (const a of project.iterateAnnotationGeometry()) {
          if (++n === 5) throw new Error('disk pulled out')
          yield a
        }
      },
    }
    await expect(exportCoco(failing, out)).rejects.toThrow('disk pulled out')
    expect(readFileSync(out, 'utf8')).toBe(before)
    expect(readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([])
    // Same for a new file: nothing appears.
    const fresh = join(folder, 'never.json')
    await expect(exportCoco(failing, fresh)).rejects.toThrow('disk pulled out')
    expect(existsSync(fresh)).toBe(false)
    expect(readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('names the file when the folder to write into does not exist', async () => {
    const out = join(folder, 'no-such-dir', 'x.json')
    const err = await exportCoco(project, out).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect((err as UserError).message).toContain(out)
  })

  it('refuses an unknown segmentation mode', async () => {
    await expect(exportCoco(project, join(folder, 'x.json'), { segmentation: 'mask' as 'rle' })).rejects.toThrow(
      /segmentation "mask"/,
    )
  })

  it('streams a larger synthetic export that JSON.parse reads back whole', async () => {
    const out = join(folder, 'synthetic.json')
    writeFileSync(out, 'previous')
    const result = await exportCoco(syntheticSource({ images: 200, annotations: 3000, width: 320, height: 240 }), out)
    const file = JSON.parse(readFileSync(out, 'utf8')) as CocoFile
    expect(result.annotations).toBe(3000)
    expect(file.annotations).toHaveLength(3000)
    expect(file.images).toHaveLength(200)
    checkStructure(file)
  })
})
