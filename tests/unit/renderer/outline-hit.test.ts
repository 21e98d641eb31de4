// The renderer hit-tests the outline main sends, for polygons and RLE alike (it has no RLE
// decoder of its own): a mask with a hole, outlined by main, is hit exactly at the pixel
// centres the mask covers, and its hole is not; a polygon's outline is editable, and so is a mask's
// without holes; a mask with holes is not (edited rings are stored without holes).
import { describe, expect, it } from 'vitest'
import { outlineOf } from '../../../src-main/core/segment/mask-ops.ts'
import { rleEncode, rleToString } from '../../../src-main/core/segment/rle.ts'
import { hitTargetOf, hitTest } from '../../../src-renderer/src/geometry/geometry.ts'

describe('hit-testing from the outline', () => {
  it("agrees with an RLE mask with a hole at every pixel centre, using main's outline", () => {
    const width = 40
    const height = 30
    const mask = new Uint8Array(width * height)
    for (let y = 5; y < 25; y++) for (let x = 8; x < 30; x++) mask[y * width + x] = 1
    for (let y = 12; y < 18; y++) for (let x = 15; x < 20; x++) mask[y * width + x] = 0
    const segmentation = rleToString(rleEncode(mask, width, height))
    const outline = outlineOf(segmentation)
    expect(outline).toHaveLength(1)
    expect(outline[0].holes).toHaveLength(1)
    const target = hitTargetOf({ id: 3, segmentation, outline, bbox: [8, 5, 22, 20] })
    // Its outer ring and hole are hit-tested (even-odd); moving them would fill the hole.
    expect(target.rings).toHaveLength(2)
    expect(target.editable).toBe(false)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const hit = hitTest([target], { x: x + 0.5, y: y + 0.5 }, 0, null)
        expect(hit !== null, `${x},${y}`).toBe(mask[y * width + x] === 1)
      }
    }
  })

  it('edits a polygon by the rings of its outline', () => {
    const ring = [10, 10, 20, 10, 20, 20, 10, 20]
    const target = hitTargetOf({ id: 4, segmentation: [ring], outline: outlineOf([ring]), bbox: [10, 10, 10, 10] })
    expect(target.rings).toEqual([ring])
    expect(hitTest([target], { x: 20, y: 10 }, 1, 4)).toEqual({ kind: 'vertex', id: 4, ring: 0, vertex: 1 })
  })
})
