// The click simulator against click sequences worked out by hand on tiny masks.
import { describe, expect, it } from 'vitest'
import {
  clicksToReach,
  firstClick,
  iou,
  nextClick,
  squaredDistanceToOutside,
} from '../../../src-main/core/eval/click-simulator.ts'

/** A row-major mask of width x height from the rectangles [x0, y0, x1, y1) given. */
function mask(width: number, height: number, ...rects: [number, number, number, number][]): Uint8Array {
  const m = new Uint8Array(width * height)
  for (const [x0, y0, x1, y1] of rects) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * width + x] = 1
  return m
}

describe('click simulator', () => {
  // A 3x5 block at x 1..3, y 1..5 of a 6x8 image.
  const W = 6,
    H = 8
  const block = mask(W, H, [1, 1, 4, 6])

  it('measures exact Euclidean distances to the nearest outside pixel, the border outside', () => {
    const d = squaredDistanceToOutside(block, W, H)
    expect(d[1 * W + 1]).toBe(1) // corner of the block: its outside neighbour is 1 away
    expect(d[3 * W + 2]).toBe(4) // centre column: 2 from x = 0 and x = 4, 3 from y = 0 and y = 6
    expect(d[0]).toBe(0)
    // A region touching the image border is 1 from the border there.
    expect(squaredDistanceToOutside(mask(3, 3, [0, 0, 3, 3]), 3, 3)[4]).toBe(4)
    // Diagonal distances are Euclidean, not city-block: a 7x7 block's centre is 4 from the outside ring.
    const big = mask(9, 9, [1, 1, 8, 8])
    expect(squaredDistanceToOutside(big, 9, 9)[4 * 9 + 4]).toBe(16)
    expect(squaredDistanceToOutside(big, 9, 9)[2 * 9 + 2]).toBe(4)
  })

  it('clicks first at the interior point farthest from the boundary, the first in row order on a tie', () => {
    // (2,2), (2,3) and (2,4) are all 2 from the boundary: (2,2) comes first.
    expect(firstClick(block, W, H)).toEqual({ x: 2.5, y: 2.5, label: 1 })
    expect(firstClick(new Uint8Array(W * H), W, H)).toBeNull()
  })

  it('clicks next into the largest error region: positive for a missed part, negative for a false one', () => {
    // The bottom two rows of the block missed (6 pixels), nothing false: every missed pixel is 1
    // from the boundary, so the first in row order, (1,4).
    const missedBottom = mask(W, H, [1, 1, 4, 4])
    expect(nextClick(block, missedBottom, W, H)).toEqual({ x: 1.5, y: 4.5, label: 1 })
    // The whole block found plus a false 4x2 region (8 pixels) beside a missed... nothing: negative.
    const spill = mask(W, H, [1, 1, 4, 6], [0, 6, 4, 8])
    expect(nextClick(block, spill, W, H)).toEqual({ x: 0.5, y: 6.5, label: 0 })
    // A missed region of 6 pixels against a false one of 8: the false one is larger.
    const both = mask(W, H, [1, 1, 4, 4], [0, 6, 4, 8])
    expect(nextClick(block, both, W, H)?.label).toBe(0)
    // Equal sizes: the missed region goes first.
    const tie = mask(W, H, [1, 1, 4, 4], [0, 6, 3, 8])
    expect(nextClick(block, tie, W, H)).toEqual({ x: 1.5, y: 4.5, label: 1 })
    expect(nextClick(block, block, W, H)).toBeNull()
  })

  it('scores IoU and the clicks to reach a threshold (N when never)', () => {
    expect(iou(block, mask(W, H, [1, 1, 4, 4]))).toBeCloseTo(9 / 15)
    expect(clicksToReach([0.5, 0.86, 0.91], 0.85, 20)).toBe(2)
    expect(clicksToReach([0.5, 0.86, 0.91], 0.9, 20)).toBe(3)
    expect(clicksToReach([0.5, 0.6], 0.9, 20)).toBe(20)
  })
})
