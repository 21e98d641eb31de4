// Shared set-up for the COCO tests: a real project folder with real images (sharp), shapes
// saved the way the annotate path saves them (segment/segmentation.ts), and independent
// checks of exported geometry (the pycocotools port plus a COCO RLE string decoder written
// here from the format's description, sharing no code with src-main).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { Project } from '../../../src-main/core/project/project.ts'
import type { StoredAnnotation, Category } from '../../../src-main/core/project/types.ts'
import type { Shape } from '../../../src-main/core/segment/mask-geometry.ts'
import { rasterizeShape } from '../../../src-main/core/segment/rle.ts'
import { toCocoSegmentation } from '../../../src-main/core/segment/segmentation.ts'
import { mulberry32, randomShape } from '../../helpers/synthetic.ts'
import type { CocoRle } from '../../helpers/pycocotools.ts'

export interface ImageSpec {
  path: string
  width: number
  height: number
}

export const IMAGES: ImageSpec[] = [
  { path: 'a.png', width: 640, height: 480 },
  { path: 'sub/b.png', width: 400, height: 300 },
  { path: 'sub/deeper/c.png', width: 96, height: 128 },
]
/** An unreadable image (0 bytes): listed by the project, size unknown. */
export const BROKEN = 'broken.png'

export async function makeFolder(images: ImageSpec[] = IMAGES, withBroken = true): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'sam-coco-'))
  for (const spec of images) {
    const file = join(root, ...spec.path.split('/'))
    mkdirSync(join(file, '..'), { recursive: true })
    const png = await sharp({
      create: { width: spec.width, height: spec.height, channels: 3, background: { r: 40, g: 90, b: 140 } },
    })
      .png()
      .toBuffer()
    writeFileSync(file, png)
  }
  if (withBroken) writeFileSync(join(root, BROKEN), '')
  return root
}

export async function openScanned(folder: string): Promise<Project> {
  const project = Project.open(folder, { userDataDir: join(folder, '..', 'user-data-unused') })
  await project.scan()
  await project.readPendingHeaders()
  return project
}

/** One saved annotation with the shape it was made from (the "saved mask" is its rasterisation). */
export interface Saved {
  annotation: StoredAnnotation
  shape: Shape
  image: ImageSpec
  hasHoles: boolean
}

export async function saveShape(project: Project, image: ImageSpec, category: Category, shape: Shape): Promise<Saved> {
  const row = project.imageByPath(image.path)
  if (!row) throw new Error(`no image ${image.path}`)
  const g = toCocoSegmentation(shape, image.width, image.height)
  const annotation = await project.saveAnnotation({
    imageId: row.id,
    categoryId: category.id,
    segmentation: g.segmentation,
    bbox: g.bbox,
    area: g.area,
    score: 0.9,
    prompt: null,
    modelId: 'test',
  })
  return { annotation, shape, image, hasHoles: g.hasHoles }
}

/**
 * A varied set of annotations: blobs, blobs with holes (stored as RLE), a two-part object, an
 * object cut by the image border, tiny objects.
 */
export async function seedAnnotations(project: Project, seed = 3): Promise<Saved[]> {
  const cats = [
    await project.ensureCategory('cat'),
    await project.ensureCategory('dog'),
    await project.createCategory({ name: 'tree', supercategory: 'plant' }),
  ]
  const rand = mulberry32(seed)
  const saved: Saved[] = []
  for (const [i, image] of IMAGES.entries()) {
    for (let k = 0; k < 6; k++) {
      saved.push(
        await saveShape(project, image, cats[(i + k) % 3], randomShape(rand, image.width, image.height, k % 3 === 2)),
      )
    }
    // Two parts, one touching the right border (clamped by the tracer's rules: inside [0, W]).
    const w = image.width,
      h = image.height
    saved.push(
      await saveShape(project, image, cats[0], {
        parts: [
          { outer: [w - 20, 10, w, 10, w, 40, w - 20, 40], holes: [] },
          { outer: [5, h - 30, 25, h - 30, 25, h - 5, 5, h - 5], holes: [] },
        ],
      }),
    )
  }
  return saved
}

/**
 * IoU an export must reach against the saved mask. pycocotools rasterises a polygon on a 5x
 * grid with its own rounding, which can move the outline by a pixel in some columns compared
 * with the pixel-centre rule; that alone costs small objects more than 1%, so the 0.99 bar
 * applies from 1,000 px up (0.97 below).
 */
export function minIou(pixels: number): number {
  return pixels >= 1000 ? 0.99 : 0.97
}

/** The saved mask as the pycocotools port's RLE type. */
export function savedMask(s: Saved, dropHoles = false): CocoRle {
  const shape: Shape = dropHoles ? { parts: s.shape.parts.map((p) => ({ outer: p.outer, holes: [] })) } : s.shape
  const rle = rasterizeShape(shape, s.image.width, s.image.height)
  return { h: rle.size[0], w: rle.size[1], cnts: rle.counts }
}

/**
 * COCO compressed RLE string to counts, from the format's description (cocoapi maskApi.c
 * rleFrString): 6-bit groups from char - 48, 5 data bits and a continuation bit, sign from the
 * last group's bit 4, and counts after the second taken as deltas from the count two before.
 */
export function decodeRleString(counts: string): number[] {
  const out: number[] = []
  let p = 0
  while (p < counts.length) {
    let x = 0
    let k = 0
    let more = 1
    let c = 0
    while (more) {
      c = counts.charCodeAt(p) - 48
      x |= (c & 0x1f) << (5 * k)
      more = c & 0x20
      p++
      k++
    }
    if (c & 0x10) x |= -1 << (5 * k)
    if (out.length > 2) x += out[out.length - 2]
    out.push(x)
  }
  return out
}
