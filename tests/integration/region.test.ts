// Region encoding (issue 17): on an 8000x6000 JPEG a 10 to 14 px object is under 2 encoder
// pixels and under one low-resolution cell, so one click on the whole image cannot find it;
// encoding the region the user is zoomed to can. Also: polygons come back in full-image pixels,
// a mask reaching into the rest of the image says so, refinement feeds the region's logits
// back, and region embeddings are cached per region beside the whole image's, whose entries
// keep their old names.

import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { Engine } from '../../src-main/core/segment/engine.ts'
import { preprocessImage } from '../../src-main/core/segment/preprocess.ts'
import type { Embedding } from '../../src-main/core/segment/prompt.ts'
import { encodingRegion, type Region } from '../../src-main/core/segment/region.ts'
import { segmentationToRle } from '../../src-main/core/segment/mask-ops.ts'
import type { Segmentation } from '../../src-preload/contract/schemas.ts'
import { maskIou, placeIn, unionWindow, type WindowMask } from '../../src-main/core/eval/clicks.ts'
import { rleWindow } from '../../src-main/core/eval/evaluate.ts'
import { EmbeddingCache, entryName, getRegionEmbedding, openEmbeddings } from '../../src-main/core/embeddings/index.ts'
import { writeLabelledImage, type LabelledImage } from '../helpers/small-objects.ts'

const DEMO = resolve(import.meta.dirname, '..', '..', 'models', 'demo')
const dir = mkdtempSync(join(tmpdir(), 'sam-region-'))
const W = 8000,
  H = 6000
const SMALL = [
  { x: 3000, y: 1000, w: 10, h: 10 },
  { x: 4000, y: 1000, w: 12, h: 14 },
]
const LARGE = { x: 500, y: 2000, w: 1500, h: 1200 }
const image: LabelledImage = {
  file: 'large.jpg',
  width: W,
  height: H,
  objects: [...SMALL, LARGE].map((r, i) => ({ ...r, category: 'o', color: i === 2 ? [40, 112, 190] : [210, 60, 40] })),
}
const file = join(dir, image.file)
let engine: Engine
let wholeImage: Embedding

beforeAll(async () => {
  await writeLabelledImage(dir, image, 'jpeg')
  engine = await Engine.open({ modelDir: DEMO })
  wholeImage = (await engine.encode(file)).embedding
})
afterAll(async () => {
  await engine?.close()
  rmSync(dir, { recursive: true, force: true })
})

function iouWithRect(seg: Segmentation, r: { x: number; y: number; w: number; h: number }): number {
  const mask = rleWindow(segmentationToRle(seg, W, H))
  const truth: WindowMask = {
    window: { x0: r.x, y0: r.y, x1: r.x + r.w, y1: r.y + r.h },
    mask: new Uint8Array(r.w * r.h).fill(1),
  }
  const both = unionWindow(mask.window, truth.window)
  return maskIou(placeIn(mask, both), placeIn(truth, both))
}

/** The view a user zoomed to the object might have: 256 px around its centre. */
function viewAround(r: { x: number; y: number; w: number; h: number }): Region {
  const cx = r.x + r.w / 2,
    cy = r.y + r.h / 2
  return encodingRegion({ x0: cx - 128, y0: cy - 100, x1: cx + 128, y1: cy + 100 }, W, H) as Region
}

const click = (r: { x: number; y: number; w: number; h: number }) => ({
  points: [{ x: r.x + r.w / 2, y: r.y + r.h / 2, label: 1 as const }],
  box: null,
})

describe('region encoding', () => {
  it('cuts the region in the oriented frame (EXIF orientation applied first)', async () => {
    // Stored 300x200 with a red block at the stored top-left; orientation 6 shows it rotated a
    // quarter turn clockwise, 200x300, the block at the displayed top-right.
    const raw = Buffer.alloc(300 * 200 * 3, 255)
    for (let y = 0; y < 50; y++) for (let x = 0; x < 50; x++) raw.fill(0, (y * 300 + x) * 3 + 1, (y * 300 + x) * 3 + 3)
    const rotated = join(dir, 'rotated.jpg')
    await sharp(raw, { raw: { width: 300, height: 200, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toFile(rotated)
    const plane = 1024 * 1024
    const red = await preprocessImage(rotated, undefined, { x0: 150, y0: 0, x1: 200, y1: 50 })
    expect([red.width, red.height]).toEqual([200, 300])
    expect(red.tensor[plane / 2 + 512]).toBeGreaterThan(1.5) // red channel high
    expect(red.tensor[plane + plane / 2 + 512]).toBeLessThan(-1.5) // green low
    const white = await preprocessImage(rotated, undefined, { x0: 0, y0: 0, x1: 50, y1: 50 })
    expect(white.tensor[plane + plane / 2 + 512]).toBeGreaterThan(1.5)
  })

  it('one click on a small object: IoU >= 0.8 with the region, near 0 on the whole image', async () => {
    // The object of the issue (12x14 px): lost on the whole image.
    const lost = await engine.segmentEmbedding(wholeImage, click(SMALL[1]), {}, { preprocess: 0, encode: 0 })
    expect(iouWithRect(lost.segmentation, SMALL[1])).toBeLessThan(0.05)
    for (const r of SMALL) {
      const region = viewAround(r)
      // Padded to a square (the view was 256x200), clipped to nothing here.
      expect(region.x1 - region.x0).toBe(256)
      expect(region.y1 - region.y0).toBe(256)
      const zoomed = await engine.segment(file, click(r), { region })
      expect(iouWithRect(zoomed.segmentation, r)).toBeGreaterThanOrEqual(0.8)
      // Full-image pixels, not the region's.
      expect(zoomed.bbox).toEqual([r.x, r.y, r.w, r.h])
      expect(zoomed.touchesRegionBorder).toBe(false)
    }
  })

  it('says when the mask touches a side of the region inside the image', async () => {
    const region = { x0: 800, y0: 2300, x1: 1400, y1: 2900 } // inside the large object
    const cut = await engine.segment(file, click({ x: 1000, y: 2500, w: 1, h: 1 }), { region })
    expect(cut.touchesRegionBorder).toBe(true)
    expect(cut.bbox).toEqual([800, 2300, 600, 600])
    // A region clipped at the image's corner: the mask reaching the image's own edge does not count.
    const corner = { x0: 0, y0: 0, x1: 400, y1: 400 }
    const background = await engine.segment(file, click({ x: 390, y: 390, w: 1, h: 1 }), { region: corner })
    expect(background.touchesRegionBorder).toBe(true) // the background goes on past x 400
    const whole = await engine.segmentEmbedding(wholeImage, click(LARGE), {}, { preprocess: 0, encode: 0 })
    expect(whole.touchesRegionBorder).toBe(false)
  })

  it('refines within the region (the region logits fed back) and refuses points outside it', async () => {
    const r = SMALL[1]
    const region = viewAround(r)
    const { embedding } = await engine.encode(file, region)
    const history = engine.prompt(embedding)
    const first = await history.decode(click(r))
    const second = await history.decode({
      points: [...click(r).points, { x: region.x0 + 20, y: region.y0 + 20, label: 0 }],
      box: null,
    })
    expect(second.restored).toBe(false)
    expect(second.prompt.points).toHaveLength(2)
    expect(first.logits[first.chosen]).toHaveLength(256 * 256)
    await expect(history.decode({ points: [{ x: 10, y: 10, label: 1 }], box: null })).rejects.toThrow(
      /outside the region/,
    )
    // Re-prompting a saved (full-image) annotation on a region: its mask, cut to the region,
    // is the first mask_input.
    const saved = await engine.segment(file, click(r), { region })
    const again = engine.prompt(embedding, saved.segmentation)
    const refined = await again.decode(click(r))
    const shape = engine.shapeOf(refined, W, H, {}, region)
    expect(shape.bbox).toEqual([r.x, r.y, r.w, r.h])
  })

  it('caches region embeddings per region, in memory and on disk, beside unchanged whole-image entries', async () => {
    const cacheDir = join(dir, 'cache')
    const region = viewAround(SMALL[0])
    const cache = new EmbeddingCache(cacheDir)
    const whole = await cache.keyOf(file, 'demo@x')
    const regional = await cache.keyOf(file, 'demo@x', region)
    // A whole image's entry keeps the name it had before regions existed.
    const oldName =
      createHash('sha256').update(`${whole.contentHash}\ndemo@x\n${whole.preprocess}`).digest('hex').slice(0, 40) +
      '.emb'
    expect(entryName(whole)).toBe(oldName)
    expect(entryName(regional)).not.toBe(oldName)
    expect(EmbeddingCache.memoryKey(regional)).not.toBe(EmbeddingCache.memoryKey(whole))

    const first = await openEmbeddings(engine, cacheDir, { prefetch: 0 })
    const encoded = await getRegionEmbedding(first, file, region)
    expect(encoded.source).toBe('encoder')
    expect(encoded.embedding.region).toEqual(region)
    expect((await getRegionEmbedding(first, file, region)).source).toBe('memory')
    await first.close()

    const again = await openEmbeddings(engine, cacheDir, { prefetch: 0 })
    const fromDisk = await getRegionEmbedding(again, file, region)
    expect(fromDisk.source).toBe('disk')
    expect(fromDisk.embedding.region).toEqual(region)
    expect(fromDisk.embedding.imageEmbed).toHaveLength(encoded.embedding.imageEmbed.length)
    // The whole image is another entry: not served from the region's.
    const wholeResult = await again.get({ file })
    expect(wholeResult.source).toBe('encoder')
    expect(wholeResult.embedding.region ?? null).toBeNull()
    await again.close()
  })
})
