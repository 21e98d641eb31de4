// Generated export data for the bench and tests: images with annotations shaped like SAM
// outlines (wobbly blobs of 24 to 64 vertices, one in ten with a hole and so stored as RLE,
// exactly as the annotate path stores them). Deterministic per seed, and produced on the fly,
// so an export bench measures the exporter's memory, not the generator's.

import type { Ring, Shape } from '../../src-main/core/segment/mask-geometry.ts'
import { toCocoSegmentation } from '../../src-main/core/segment/segmentation.ts'
import type { ExportAnnotation, ExportCategory, ExportImage, ExportSource } from '../../src-main/core/coco/source.ts'

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A wobbly closed outline around (cx, cy), clockwise on screen (positive shoelace area) unless `reverse`. */
export function blob(rand: () => number, cx: number, cy: number, r: number, vertices: number, reverse = false): Ring {
  const ring: Ring = []
  const phase = rand() * Math.PI * 2
  const wobble = 0.1 + rand() * 0.2
  for (let i = 0; i < vertices; i++) {
    const t = ((reverse ? vertices - i : i) / vertices) * Math.PI * 2
    const rr = r * (1 + wobble * Math.sin(3 * t + phase) + 0.05 * (rand() - 0.5))
    ring.push(cx + rr * Math.cos(t), cy + rr * Math.sin(t))
  }
  return ring
}

/** One random object inside a width x height image; `withHole` gives it a hole. */
export function randomShape(rand: () => number, width: number, height: number, withHole: boolean): Shape {
  const r = 8 + rand() * Math.min(width, height) * 0.15
  const cx = r * 1.4 + rand() * (width - 2.8 * r)
  const cy = r * 1.4 + rand() * (height - 2.8 * r)
  const vertices = 24 + Math.floor(rand() * 40)
  const outer = blob(rand, cx, cy, r, vertices)
  const holes = withHole ? [blob(rand, cx, cy, r * 0.35, 16, true)] : []
  return { parts: [{ outer, holes }] }
}

/** Distinct shapes generated per source (a prime, so shapes and categories do not cycle together). */
const POOL_SIZE = 997

export interface SyntheticOptions {
  images: number
  annotations: number
  width?: number
  height?: number
  categories?: number
  /** Every n-th annotation has a hole (stored as RLE); default 10. */
  holeEvery?: number
  seed?: number
}

/** An ExportSource of generated images and annotations (annotations spread evenly over images). */
export function syntheticSource(options: SyntheticOptions): ExportSource {
  const width = options.width ?? 1280
  const height = options.height ?? 960
  const holeEvery = options.holeEvery ?? 10
  const categoryCount = options.categories ?? 8
  const categories: ExportCategory[] = Array.from({ length: categoryCount }, (_, i) => ({
    id: i + 1,
    name: `category ${i + 1}`,
    order: i,
    supercategory: null,
  }))
  return {
    listImages(): ExportImage[] {
      return Array.from({ length: options.images }, (_, i) => ({
        id: i + 1,
        path: `batch${Math.floor(i / 1000)}/img${i + 1}.jpg`,
        width,
        height,
      }))
    },
    listCategories: () => categories,
    *iterateAnnotationGeometry(): IterableIterator<ExportAnnotation> {
      // A pool of distinct shapes, cycled: generating is then nearly free, so a bench times the exporter.
      const rand = mulberry32(options.seed ?? 1)
      const pool = Array.from({ length: Math.min(POOL_SIZE, options.annotations) }, (_, i) =>
        toCocoSegmentation(randomShape(rand, width, height, i % holeEvery === holeEvery - 1), width, height),
      )
      for (let i = 0; i < options.annotations; i++) {
        yield {
          id: i + 1,
          imageId: 1 + Math.floor((i * options.images) / options.annotations),
          categoryId: 1 + (i % categoryCount),
          segmentation: pool[i % pool.length].segmentation,
          area: pool[i % pool.length].area,
          bbox: pool[i % pool.length].bbox,
        }
      }
    },
    counts: () => ({ annotations: options.annotations }),
  }
}
