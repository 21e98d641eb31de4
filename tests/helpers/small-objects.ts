// Generated labelled folders for the click simulator (`eval`), its tests and its bench: large
// images of a flat background with flat-colour objects (what the demo model, a colour region
// grower, can segment), and a COCO file of their ground truth: rectangles as polygons, and as
// RLE every third one, so both kinds of ground truth are read.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { rleToString } from '../../src-main/core/segment/rle.ts'
import { mulberry32 } from './synthetic.ts'

export interface Rect {
  x: number
  y: number
  w: number
  h: number
}

export interface LabelledObject extends Rect {
  category: string
  color: [number, number, number]
}

export interface LabelledImage {
  file: string
  width: number
  height: number
  objects: LabelledObject[]
}

const BACKGROUND: [number, number, number] = [230, 215, 180]
const COLORS: [number, number, number][] = [
  [210, 60, 40],
  [40, 112, 190],
  [46, 139, 58],
  [80, 80, 80],
]

/** Column-major COCO RLE counts of a rectangle on a width x height image. */
export function rectRleCounts(r: Rect, width: number, height: number): number[] {
  const counts = [r.x * height + r.y]
  for (let c = 0; c < r.w; c++) {
    counts.push(r.h)
    if (c < r.w - 1) counts.push(height - r.h)
  }
  counts.push(width * height - (r.x + r.w - 1) * height - r.y - r.h)
  return counts
}

/** Draws the image (flat colours, no antialiasing: the truth is exact) and writes it as `format`. */
export async function writeLabelledImage(
  dir: string,
  image: LabelledImage,
  format: 'png' | 'jpeg' = 'png',
): Promise<void> {
  const { width, height } = image
  const raw = Buffer.alloc(width * height * 3)
  for (let i = 0; i < raw.length; i += 3) {
    raw[i] = BACKGROUND[0]
    raw[i + 1] = BACKGROUND[1]
    raw[i + 2] = BACKGROUND[2]
  }
  for (const o of image.objects) {
    for (let y = o.y; y < o.y + o.h; y++) {
      for (let x = o.x; x < o.x + o.w; x++) {
        const i = (y * width + x) * 3
        raw[i] = o.color[0]
        raw[i + 1] = o.color[1]
        raw[i + 2] = o.color[2]
      }
    }
  }
  const img = sharp(raw, { raw: { width, height, channels: 3 } })
  await (format === 'png' ? img.png({ compressionLevel: 1 }) : img.jpeg({ quality: 95 })).toFile(join(dir, image.file))
}

/** The COCO document of the images (every third object as compressed RLE, the others as polygons). */
export function labelledCoco(images: readonly LabelledImage[]): unknown {
  const names = [...new Set(images.flatMap((i) => i.objects.map((o) => o.category)))].sort()
  let id = 1
  let n = 0
  return {
    images: images.map((img, i) => ({ id: i + 1, file_name: img.file, width: img.width, height: img.height })),
    categories: names.map((name, i) => ({ id: i + 1, name })),
    annotations: images.flatMap((img, i) =>
      img.objects.map((o) => {
        const { x, y, w, h } = o
        const segmentation =
          n++ % 3 === 2
            ? rleToString({ size: [img.height, img.width], counts: rectRleCounts(o, img.width, img.height) })
            : [[x, y, x + w, y, x + w, y + h, x, y + h]]
        return {
          id: id++,
          image_id: i + 1,
          category_id: names.indexOf(o.category) + 1,
          segmentation,
          bbox: [x, y, w, h],
          area: w * h,
          iscrowd: 0,
        }
      }),
    ),
  }
}

/**
 * `count` images of width x height, each with `small` objects of 6 to 24 px a side and `large`
 * ones of 5 to 15 % of the image's shorter side, none touching another. Deterministic per seed.
 */
export function smallObjectSet(options: {
  count: number
  width: number
  height: number
  small: number
  large: number
  seed?: number
}): LabelledImage[] {
  const rand = mulberry32(options.seed ?? 7)
  const { width, height } = options
  return Array.from({ length: options.count }, (_, i) => {
    const objects: LabelledObject[] = []
    const place = (w: number, h: number, category: string) => {
      for (let tries = 0; tries < 1000; tries++) {
        const x = Math.floor(rand() * (width - w)),
          y = Math.floor(rand() * (height - h))
        // A gap of 3x the larger object between objects: neither the truth nor a region overlaps.
        const gap = 3 * Math.max(w, h, 24)
        const clear = objects.every(
          (o) => x + w + gap <= o.x || o.x + o.w + gap <= x || y + h + gap <= o.y || o.y + o.h + gap <= y,
        )
        if (clear) {
          objects.push({ x, y, w, h, category, color: COLORS[objects.length % COLORS.length] })
          return
        }
      }
    }
    const side = Math.min(width, height)
    for (let k = 0; k < options.large; k++)
      place(Math.round(side * (0.05 + rand() * 0.1)), Math.round(side * (0.05 + rand() * 0.1)), 'large')
    for (let k = 0; k < options.small; k++) place(6 + Math.floor(rand() * 19), 6 + Math.floor(rand() * 19), 'small')
    return { file: `image-${i + 1}.png`, width, height, objects }
  })
}

/** Writes the images and `truth.json` into `dir`; returns the truth file's path. */
export async function writeLabelledFolder(
  dir: string,
  images: readonly LabelledImage[],
  format: 'png' | 'jpeg' = 'png',
): Promise<string> {
  const named = images.map((img) => ({ ...img, file: img.file.replace(/\.png$/, format === 'png' ? '.png' : '.jpg') }))
  for (const image of named) await writeLabelledImage(dir, image, format)
  const truth = join(dir, 'truth.json')
  writeFileSync(truth, JSON.stringify(labelledCoco(named)))
  return truth
}
