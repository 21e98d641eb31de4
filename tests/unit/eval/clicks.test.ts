import { describe, expect, it } from 'vitest'
import { farthestInside, squaredDistanceInside } from '../../../src-main/core/eval/distance.ts'
import { nextClick, simulateClicks, type Click, type WindowMask } from '../../../src-main/core/eval/clicks.ts'
import { mulberry32 } from '../../helpers/synthetic.ts'

/** A mask from rows of '#' (inside) and '.' (outside). */
function grid(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const width = rows[0].length
  const mask = new Uint8Array(width * rows.length)
  rows.forEach((r, y) => [...r].forEach((c, x) => (mask[y * width + x] = c === '#' ? 1 : 0)))
  return { mask, width, height: rows.length }
}

/** Brute force: squared distance from each inside pixel to the nearest outside one, the border counting as outside. */
function bruteForce(mask: Uint8Array, width: number, height: number): number[] {
  const out: number[] = []
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) {
        out.push(0)
        continue
      }
      let best = Math.min(x + 1, y + 1, width - x, height - y) ** 2
      for (let v = 0; v < height; v++)
        for (let u = 0; u < width; u++) if (!mask[v * width + u]) best = Math.min(best, (u - x) ** 2 + (v - y) ** 2)
      out.push(best)
    }
  }
  return out
}

describe('exact distance transform', () => {
  it('equals brute force on random masks, the image border counting as boundary', () => {
    const rand = mulberry32(3)
    for (let t = 0; t < 40; t++) {
      const width = 1 + Math.floor(rand() * 17),
        height = 1 + Math.floor(rand() * 13)
      const density = rand()
      const mask = Uint8Array.from({ length: width * height }, () => (rand() < density ? 1 : 0))
      expect(Array.from(squaredDistanceInside(mask, width, height))).toEqual(bruteForce(mask, width, height))
    }
  })

  it('breaks ties by row-major order: the first deepest pixel', () => {
    // A 2x4 bar: every pixel is at distance 1; the first one wins.
    const { mask, width, height } = grid(['......', '.####.', '.####.', '......'])
    expect(farthestInside(mask, width, height)).toEqual({ x: 1, y: 1, distance: 1 })
  })
})

describe('click simulator', () => {
  it('first click at the deepest interior point, positive', () => {
    const square = grid(['.......', '.#####.', '.#####.', '.#####.', '.#####.', '.#####.', '.......'])
    expect(nextClick(square.mask, null, 7, 7)).toEqual({ x: 3, y: 3, positive: true })
    // A 5x3 bar: (2,2), (3,2) and (4,2) are all 2 from the boundary; the first wins.
    const bar = grid(['.......', '.#####.', '.#####.', '.#####.', '.......'])
    expect(nextClick(bar.mask, null, 7, 5)).toEqual({ x: 2, y: 2, positive: true })
  })

  it('next click in the deeper error region: negative for a false part, positive for a missed one', () => {
    const truth = grid(['#####......', '#####......', '#####......', '#####......', '#####......'])
    // The prediction covers the object's left 2 columns and a 3x3 block to the right of it.
    const falsePart = grid(['##.........', '##.....###.', '##.....###.', '##.....###.', '##.........'])
    // Missed: columns 2..4 (3 wide, 5 tall, on the image's top and bottom edge): depth 2 first
    // at (3,1) (the edge counts as boundary); the false block: depth 2
    // at (8,2). Equal depth: the click is negative (RITM's rule), at the false block's centre.
    expect(nextClick(truth.mask, falsePart.mask, 11, 5)).toEqual({ x: 8, y: 2, positive: false })
    // Without the false block, the missed part gets the (positive) click.
    const missedOnly = grid(['##.........', '##.........', '##.........', '##.........', '##.........'])
    expect(nextClick(truth.mask, missedOnly.mask, 11, 5)).toEqual({ x: 3, y: 1, positive: true })
    // Exact: no click.
    expect(nextClick(truth.mask, truth.mask, 11, 5)).toBeNull()
  })

  it('runs a scripted sequence: clicks in image pixels, IoU per click, exact masks end the run', async () => {
    const t = grid(['.....', '.###.', '.###.', '.###.', '.....'])
    const truth: WindowMask = { window: { x0: 10, y0: 20, x1: 15, y1: 25 }, mask: t.mask }
    // Click 1: only the top row of the object; click 2: the object plus a stray pixel far off;
    // click 3: exact.
    const answers: WindowMask[] = [
      { window: { x0: 11, y0: 21, x1: 14, y1: 22 }, mask: Uint8Array.from([1, 1, 1]) },
      { window: { x0: 11, y0: 21, x1: 20, y1: 24 }, mask: grid(['###......', '###......', '###.....#']).mask },
      { window: { x0: 11, y0: 21, x1: 14, y1: 24 }, mask: new Uint8Array(9).fill(1) },
    ]
    const seen: Click[][] = []
    const run = await simulateClicks(
      truth,
      async (clicks) => {
        seen.push(clicks.map((c) => ({ ...c })))
        return answers[clicks.length - 1]
      },
      5,
    )
    // 1: centre of the 3x3 object (12,22). 2: the missed 3x2 block below the top row, pixels
    // (11..13, 22..23), depth 1 everywhere: the first in row-major order, (11,22). 3: the
    // stray pixel (19,23), negative (depth 1; nothing missed).
    expect(run.clicks).toEqual([
      { x: 12, y: 22, positive: true },
      { x: 11, y: 22, positive: true },
      { x: 19, y: 23, positive: false },
    ])
    expect(run.ious.map((v) => Number(v.toFixed(4)))).toEqual([0.3333, 0.9, 1, 1, 1])
    expect(seen).toHaveLength(3)
  })
})
