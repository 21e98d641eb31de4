// Saved-mask operations: set operations between annotations' masks, the outline of a mask, and
// a saved mask turned back into decoder logits for re-prompting.

import { describe, expect, it } from 'vitest'
import { LOW_RES_SIZE } from '../../../src-main/core/segment/model-interface.ts'
import { referenceMask } from '../../helpers/reference-mask.ts'
import {
  combineRle,
  combineSegmentations,
  OUTLINE_MAX_GRID,
  outlineOf,
  rleToSegmentation,
  rleToShape,
  segmentationToLowResLogits,
  segmentationToRle,
} from '../../../src-main/core/segment/mask-ops.ts'
import { rasterizeShape, rleDecode, rleEncode, rleToString } from '../../../src-main/core/segment/rle.ts'
import { iou } from '../../helpers/demo-scenes.ts'

const W = 640
const H = 480

function mask(fn: (x: number, y: number) => boolean): Uint8Array {
  const m = new Uint8Array(W * H)
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = fn(x + 0.5, y + 0.5) ? 1 : 0
  return m
}

const disc = mask((x, y) => Math.hypot(x - 250, y - 240) < 120)
const bar = mask((x, y) => x > 300 && x < 600 && y > 200 && y < 260)

describe('mask operations', () => {
  it('adds and subtracts masks run by run, exactly as pixelwise', () => {
    const a = rleEncode(disc, W, H)
    const b = rleEncode(bar, W, H)
    expect(rleDecode(combineRle(a, b, 'add'))).toEqual(disc.map((v, i) => v | bar[i]))
    expect(rleDecode(combineRle(a, b, 'subtract'))).toEqual(disc.map((v, i) => v & (1 - bar[i])))
    expect(rleDecode(combineRle(b, a, 'subtract'))).toEqual(bar.map((v, i) => v & (1 - disc[i])))
  })

  it('combines saved segmentations into a new outline with bbox and area', () => {
    const base = rleToSegmentation(rleEncode(disc, W, H))
    expect(Array.isArray(base.segmentation)).toBe(true)
    const added = combineSegmentations(base.segmentation, [[300, 200, 600, 200, 600, 260, 300, 260]], 'add', W, H)
    const want = disc.map((v, i) => v | bar[i])
    expect(iou(rleDecode(segmentationToRle(added.segmentation, W, H)), want)).toBeGreaterThan(0.99)
    expect(added.bbox[0] + added.bbox[2]).toBeGreaterThanOrEqual(599)
    // Cutting a hole out of the middle gives RLE (holes are kept exactly).
    const hole = combineSegmentations(base.segmentation, [[230, 220, 270, 220, 270, 260, 230, 260]], 'subtract', W, H)
    expect(hole.hasHoles).toBe(true)
    expect(Array.isArray(hole.segmentation)).toBe(false)
    expect(hole.area).toBeLessThan(base.area - 1500)
    expect(() => combineSegmentations(base.segmentation, [[0, 0, W, 0, W, H, 0, H]], 'subtract', W, H)).toThrow(
      /leaves nothing/,
    )
    const rle = rleToString(rleEncode(disc, W, H))
    expect(() => segmentationToRle({ ...rle, size: [10, 10] }, W, H)).toThrow(/does not match the 640x480 image/)
  })

  it('turns a saved mask into low-resolution logits whose upstream mask is the saved one', () => {
    const seg = rleToSegmentation(rleEncode(disc, W, H)).segmentation
    const logits = segmentationToLowResLogits(seg, W, H)
    expect(logits.length).toBe(LOW_RES_SIZE * LOW_RES_SIZE)
    expect(Math.max(...logits)).toBeCloseTo(16)
    expect(Math.min(...logits)).toBeCloseTo(-16)
    // Read back the way SAM's masks are read, the prior is the saved object.
    expect(iou(referenceMask(logits, LOW_RES_SIZE, LOW_RES_SIZE, W, H), disc)).toBeGreaterThan(0.98)
    // An image smaller than the 256x256 grid: every cell still reads the pixel under it.
    const small = [[10, 10, 90, 10, 90, 50, 10, 50]]
    const tiny = segmentationToLowResLogits(small, 100, 60)
    const back = referenceMask(tiny, LOW_RES_SIZE, LOW_RES_SIZE, 100, 60)
    const want = rleDecode(segmentationToRle(small, 100, 60))
    expect(iou(back, want)).toBeGreaterThan(0.97)
  })

  it('traces the outline of a mask larger than the grid bound from cell coverage, edges within a pixel or two', () => {
    // A 4000x3000 disc with a square hole: a 4x coarser grid than its pixels.
    const w = 4000,
      h = 3000
    const big = new Uint8Array(w * h)
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inDisc = Math.hypot(x + 0.5 - 2000, y + 0.5 - 1500) < 1400
        const inHole = x >= 1800 && x < 2200 && y >= 1300 && y < 1700
        big[y * w + x] = inDisc && !inHole ? 1 : 0
      }
    }
    const rle = rleEncode(big, w, h)
    const coarse = rleToShape(rle, { maxGrid: OUTLINE_MAX_GRID })
    expect(coarse.parts).toHaveLength(1)
    expect(coarse.parts[0].holes).toHaveLength(1)
    expect(iou(rleDecode(rasterizeShape(coarse, w, h)), big)).toBeGreaterThan(0.995)
    // The outline of a stored RLE is that bounded trace.
    expect(outlineOf(rleToString(rle))).toEqual(rleToShape(rle, { maxGrid: OUTLINE_MAX_GRID, minArea: 16 }).parts)
    // At pixel resolution nothing changes: the same mask traced without a bound keeps every pixel.
    const small = rleEncode(disc, W, H)
    expect(iou(rleDecode(rasterizeShape(rleToShape(small), W, H)), disc)).toBeGreaterThan(0.99)
  })
})
