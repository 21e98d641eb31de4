// COCO RLE: pycocotools-compatible counts, strings, area and bbox, and the pixel-centre
// rasteriser checked against a brute-force one and against the pycocotools port.

import { describe, expect, it } from 'vitest'
import {
  rasterizeShape,
  rleArea,
  rleDecode,
  rleEncode,
  rleFromString,
  rleToBbox,
  rleToString,
  type Rle,
} from '../../../src-main/core/segment/rle.ts'
import type { Ring, Shape } from '../../../src-main/core/segment/mask-geometry.ts'
import { toCocoSegmentation } from '../../../src-main/core/segment/segmentation.ts'
import { frPoly, frPolygons, iou, merge } from '../../helpers/pycocotools.ts'
import { mulberry32 } from '../../helpers/synthetic.ts'

function maskFromRows(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const height = rows.length,
    width = rows[0].length
  const mask = new Uint8Array(width * height)
  rows.forEach((r, y) => [...r].forEach((c, x) => (mask[y * width + x] = c === '#' ? 1 : 0)))
  return { mask, width, height }
}

/** Brute force: every pixel centre tested against every ring (even-odd per part, parts unioned). */
function bruteRasterize(shape: Shape, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height)
  const inRing = (r: Ring, x: number, y: number) => {
    let c = false
    for (let i = 0, j = r.length - 2; i < r.length; j = i, i += 2) {
      const xi = r[i],
        yi = r[i + 1],
        xj = r[j],
        yj = r[j + 1]
      // Crossing test along the column (x fixed), the rasteriser's half-open rule: x in [min, max).
      if (xi <= x !== xj <= x && y > yi + ((x - xi) * (yj - yi)) / (xj - xi)) c = !c
    }
    return c
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = x + 0.5,
        py = y + 0.5
      for (const part of shape.parts) {
        let c = inRing(part.outer, px, py)
        for (const h of part.holes) if (inRing(h, px, py)) c = !c
        if (c) {
          mask[y * width + x] = 1
          break
        }
      }
    }
  }
  return mask
}

describe('rleEncode / rleDecode', () => {
  it('encodes column-major runs starting with background (hand-computed)', () => {
    const { mask, width, height } = maskFromRows([
      '.##.', //
      '.#..',
      '....',
    ])
    // Column-major: col0 ..., col1 ##., col2 #.., col3 ... -> 0,0,0,1,1,0,1,0,0,0,0,0
    expect(rleEncode(mask, width, height)).toEqual({ size: [3, 4], counts: [3, 2, 1, 1, 5] })
    const full = maskFromRows(['##', '##'])
    expect(rleEncode(full.mask, 2, 2).counts).toEqual([0, 4])
    const empty = maskFromRows(['...'])
    expect(rleEncode(empty.mask, 3, 1).counts).toEqual([3])
  })

  it('round-trips random masks exactly', () => {
    const rand = mulberry32(1)
    for (const [w, h] of [
      [1, 1],
      [1, 9],
      [9, 1],
      [17, 13],
      [64, 3],
    ]) {
      for (const density of [0, 0.1, 0.5, 0.95, 1]) {
        const mask = new Uint8Array(w * h).map(() => (rand() < density ? 1 : 0))
        const rle = rleEncode(mask, w, h)
        expect(rle.counts.slice(1).every((c) => c > 0)).toBe(true)
        expect(rle.counts.reduce((a, b) => a + b, 0)).toBe(w * h)
        expect(rleDecode(rle)).toEqual(mask)
        expect(rleArea(rle)).toBe(mask.reduce((a, b) => a + b, 0))
      }
    }
  })

  it('rejects a mask of the wrong size', () => {
    expect(() => rleEncode(new Uint8Array(5), 2, 3)).toThrow(/2x3/)
  })
})

describe('rleToString / rleFromString', () => {
  it('matches pycocotools strings derived by hand', () => {
    // 1 -> '1', 2 -> '2', 3 -> '3'; 40 - 2 = 38 = 6 + 1*32 -> (6|0x20)+48 = 'V', then 1 -> '1'.
    expect(rleToString({ size: [2, 23], counts: [1, 2, 3, 40] })).toEqual({ size: [2, 23], counts: '123V1' })
    // 2 - 10 = -8: low 5 bits 24 (sign bit 0x10 set), rest -1: one char 24+48 = 'H'.
    expect(rleToString({ size: [4, 5], counts: [5, 10, 3, 2] }).counts).toBe('5:3H')
    // 100 = 4 + 3*32 -> (4|0x20)+48 = 'T', then '3'.
    expect(rleToString({ size: [10, 10], counts: [0, 100] }).counts).toBe('0T3')
    expect(rleFromString({ size: [2, 23], counts: '123V1' }).counts).toEqual([1, 2, 3, 40])
    expect(rleFromString({ size: [4, 5], counts: '5:3H' }).counts).toEqual([5, 10, 3, 2])
    expect(rleFromString({ size: [10, 10], counts: '0T3' }).counts).toEqual([0, 100])
  })

  it('round-trips random counts, including large values and negative deltas', () => {
    const rand = mulberry32(2)
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rand() * 30)
      const counts = Array.from({ length: n }, (_, i) =>
        i === 0 && rand() < 0.3 ? 0 : 1 + Math.floor(rand() ** 4 * 4e8),
      )
      if (counts.length === 1 && counts[0] === 0) counts.push(1)
      // The runs cover the mask exactly, as a decoder insists (rleProblem).
      const rle: Rle = { size: [counts.reduce((a, b) => a + b, 0), 1], counts }
      const s = rleToString(rle)
      expect(/^[0-o]*$/.test(s.counts)).toBe(true)
      expect(rleFromString(s)).toEqual(rle)
    }
  })

  it('rejects malformed strings', () => {
    expect(() => rleFromString({ size: [1, 1], counts: 'V' })).toThrow(/ends inside/)
    expect(() => rleFromString({ size: [1, 1], counts: '1 ' })).toThrow(/invalid character/)
  })

  it('refuses runs that are negative or do not cover height x width', () => {
    expect(() => rleFromString(rleToString({ size: [4, 5], counts: [5, -3, 18] }))).toThrow(/run 1 \(-3\)/)
    expect(() => rleFromString(rleToString({ size: [4, 5], counts: [5, 10] }))).toThrow(/cover 15 pixels.*has 20/)
    expect(() => rleFromString(rleToString({ size: [4, 5], counts: [0, 2 ** 34] }))).toThrow(/cover 17179869184/)
    expect(rleFromString(rleToString({ size: [4, 5], counts: [5, 15] })).counts).toEqual([5, 15])
  })
})

describe('rleArea / rleToBbox', () => {
  it('gives the foreground pixel count and pycocotools bbox', () => {
    const { mask, width, height } = maskFromRows([
      '......', //
      '..#...',
      '..##..',
      '...#..',
    ])
    const rle = rleEncode(mask, width, height)
    expect(rleArea(rle)).toBe(4)
    expect(rleToBbox(rle)).toEqual([2, 1, 2, 3])
    // A run crossing a column boundary (bottom of col 0, top of col 1).
    const wrap = maskFromRows(['.#', '..', '#.'])
    expect(rleToBbox(rleEncode(wrap.mask, 2, 3))).toEqual([0, 0, 2, 3])
    expect(rleToBbox({ size: [3, 3], counts: [9] })).toEqual([0, 0, 0, 0])
    expect(rleArea({ size: [3, 3], counts: [9] })).toBe(0)
  })

  it('agrees with a brute-force bbox on random sparse masks', () => {
    const rand = mulberry32(3)
    for (let t = 0; t < 50; t++) {
      const w = 1 + Math.floor(rand() * 20),
        h = 1 + Math.floor(rand() * 20)
      const mask = new Uint8Array(w * h).map(() => (rand() < 0.05 ? 1 : 0))
      let x0 = w,
        y0 = h,
        x1 = -1,
        y1 = -1
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if (mask[y * w + x]) {
            x0 = Math.min(x0, x)
            y0 = Math.min(y0, y)
            x1 = Math.max(x1, x)
            y1 = Math.max(y1, y)
          }
        }
      }
      const expected = x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
      expect(rleToBbox(rleEncode(mask, w, h))).toEqual(expected)
    }
  })
})

describe('rasterizeShape', () => {
  it('takes pixels whose centre is inside (hand-computed)', () => {
    const shape: Shape = { parts: [{ outer: [1, 1, 4, 1, 4, 3, 1, 3], holes: [] }] }
    // Pixels x in 1..3, y in 1..2 of a 6x5 image -> indices 6,7 11,12 16,17.
    expect(rasterizeShape(shape, 6, 5)).toEqual({ size: [5, 6], counts: [6, 2, 3, 2, 3, 2, 12] })
    // Edges exactly through pixel centres: the half-open rule keeps the low side only.
    const half: Shape = { parts: [{ outer: [0.5, 0.5, 2.5, 0.5, 2.5, 2.5, 0.5, 2.5], holes: [] }] }
    expect(rleArea(rasterizeShape(half, 4, 4))).toBe(4)
  })

  it('applies even-odd for holes and unions overlapping parts', () => {
    const square = (x0: number, y0: number, x1: number, y1: number): Ring => [x0, y0, x1, y0, x1, y1, x0, y1]
    const shape: Shape = {
      parts: [
        { outer: square(0, 0, 10, 10), holes: [square(3, 3, 7, 7).reverse()] },
        { outer: square(5, 5, 15, 12), holes: [] },
      ],
    }
    const rle = rasterizeShape(shape, 16, 14)
    expect(rleDecode(rle)).toEqual(bruteRasterize(shape, 16, 14))
    // 100 - 16 (hole) + 70 (second square) - overlap of the second square with the first's
    // remaining area: the 5x5 corner minus its 2x2 part in the hole = 21.
    expect(rleArea(rle)).toBe(100 - 16 + 70 - 21)
  })

  it('matches brute force on random polygons, clipped to the image, with holes', () => {
    const rand = mulberry32(4)
    for (let t = 0; t < 40; t++) {
      const w = 5 + Math.floor(rand() * 40),
        h = 5 + Math.floor(rand() * 40)
      const star = (cx: number, cy: number, r: number, n: number): Ring => {
        const ring: Ring = []
        for (let i = 0; i < n; i++) {
          const a = (i / n) * 2 * Math.PI
          const rr = r * (0.5 + rand())
          ring.push(cx + rr * Math.cos(a), cy + rr * Math.sin(a))
        }
        return ring
      }
      const shape: Shape = {
        parts: [
          {
            outer: star(rand() * w, rand() * h, 3 + rand() * w, 5 + Math.floor(rand() * 20)),
            holes: [star(w / 2, h / 2, 2, 6)],
          },
          { outer: star(rand() * w, rand() * h, 2 + rand() * 10, 3 + Math.floor(rand() * 8)), holes: [] },
        ],
      }
      const rle = rasterizeShape(shape, w, h)
      expect(rle.counts.slice(1).every((c) => c > 0)).toBe(true)
      expect(rleDecode(rle)).toEqual(bruteRasterize(shape, w, h))
    }
  })

  it('matches brute force with many parts crossing each column (long columns are sorted in place)', () => {
    const rand = mulberry32(12)
    const w = 60,
      h = 50
    const parts = Array.from({ length: 80 }, () => {
      const cx = rand() * w,
        cy = rand() * h,
        n = 3 + Math.floor(rand() * 9)
      const outer: Ring = []
      for (let i = 0; i < n; i++) {
        const a = (i / n) * 2 * Math.PI,
          r = 1 + rand() * 6
        outer.push(cx + r * Math.cos(a), cy + r * Math.sin(a))
      }
      return { outer, holes: [] }
    })
    const shape: Shape = { parts }
    const rle = rasterizeShape(shape, w, h)
    expect(rleDecode(rle)).toEqual(bruteRasterize(shape, w, h))
  })

  it('agrees with pycocotools rleFrPoly on polygons', () => {
    const rand = mulberry32(5)
    for (let t = 0; t < 20; t++) {
      const w = 200,
        h = 150
      const n = 8 + Math.floor(rand() * 30)
      const ring: Ring = []
      for (let i = 0; i < n; i++) {
        const a = (i / n) * 2 * Math.PI
        const r = 40 + rand() * 30
        ring.push(100 + r * Math.cos(a), 75 + r * Math.sin(a))
      }
      const ours = rasterizeShape({ parts: [{ outer: ring, holes: [] }] }, w, h)
      const coco = frPoly(ring, h, w)
      expect(iou({ h, w, cnts: ours.counts }, coco)).toBeGreaterThan(0.985)
    }
  })

  it('handles an empty shape and shapes outside the image', () => {
    expect(rasterizeShape({ parts: [] }, 4, 3)).toEqual({ size: [3, 4], counts: [12] })
    const outside: Shape = { parts: [{ outer: [10, 10, 20, 10, 20, 20], holes: [] }] }
    expect(rasterizeShape(outside, 4, 3).counts).toEqual([12])
  })
})

describe('toCocoSegmentation', () => {
  it('writes polygons without holes and compressed RLE with holes, area and bbox from the raster', () => {
    const W = 40,
      H = 30
    const outer: Ring = [5.123, 4, 30, 4.5, 28, 25, 6, 22]
    const simple = toCocoSegmentation({ parts: [{ outer, holes: [] }] }, W, H)
    expect(simple.hasHoles).toBe(false)
    expect(simple.segmentation).toEqual([[5.12, 4, 30, 4.5, 28, 25, 6, 22]])
    const raster = rasterizeShape({ parts: [{ outer, holes: [] }] }, W, H)
    expect(simple.area).toBe(rleArea(raster))
    expect(simple.bbox).toEqual(rleToBbox(raster))
    // pycocotools reads the polygons back as nearly the same pixels.
    expect(
      iou(frPolygons(simple.segmentation as number[][], H, W), { h: H, w: W, cnts: raster.counts }),
    ).toBeGreaterThan(0.95)

    const hole: Ring = [12, 10, 12, 16, 20, 16, 20, 10]
    const holed = toCocoSegmentation({ parts: [{ outer, holes: [hole] }] }, W, H)
    expect(holed.hasHoles).toBe(true)
    if (Array.isArray(holed.segmentation)) throw new Error('expected RLE')
    expect(holed.segmentation.size).toEqual([H, W])
    const decoded = rleDecode(rleFromString(holed.segmentation))
    expect(decoded.reduce((a, b) => a + b, 0)).toBe(holed.area)
    expect(holed.area).toBe(simple.area - 8 * 6)
    expect(holed.bbox).toEqual(simple.bbox)
    // The union of two separate parts as pycocotools merges them equals our raster.
    const two = toCocoSegmentation(
      {
        parts: [
          { outer: [1, 1, 9, 1, 9, 9, 1, 9], holes: [] },
          { outer: [20, 20, 30, 20, 30, 28, 20, 28], holes: [] },
        ],
      },
      W,
      H,
    )
    const polys = two.segmentation as number[][]
    expect(polys.length).toBe(2)
    expect(rleAreaCoco(merge(polys.map((p) => frPoly(p, H, W))))).toBe(two.area)
  })
})

function rleAreaCoco(r: { cnts: number[] }): number {
  let s = 0
  for (let j = 1; j < r.cnts.length; j += 2) s += r.cnts[j]
  return s
}
