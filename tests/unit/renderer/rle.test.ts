// The renderer's RLE reader agrees with the core's COCO encoder (pycocotools-compatible).
import { describe, expect, it } from 'vitest'
import { rleEncode, rleToString } from '../../../src-main/core/segment/rle.ts'
import { decodeCounts, maskTile, tileContains } from '../../../src-renderer/src/geometry/rle.ts'

describe('renderer RLE', () => {
  it('reads back a mask with a hole, cut to its box', () => {
    const width = 40
    const height = 30
    const mask = new Uint8Array(width * height)
    for (let y = 5; y < 25; y++) for (let x = 8; x < 30; x++) mask[y * width + x] = 1
    for (let y = 12; y < 18; y++) for (let x = 15; x < 20; x++) mask[y * width + x] = 0
    const rle = rleEncode(mask, width, height)
    const compressed = rleToString(rle)
    expect(decodeCounts(compressed.counts)).toEqual(rle.counts)
    const tile = maskTile(compressed, [8, 5, 22, 20])
    expect(tile).toMatchObject({ x: 8, y: 5, width: 22, height: 20 })
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) expect(tileContains(tile, x + 0.5, y + 0.5), `${x},${y}`).toBe(mask[y * width + x] === 1)
    }
  })
})
