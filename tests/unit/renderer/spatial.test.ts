// The canvas's spatial index (a uniform grid over outline bounding boxes) and handle thinning:
// the index finds exactly what a scan of every box finds, and hit-tests like the scan; thinned
// handles never sit closer than the spacing on screen, and all show once zoomed in.
import { describe, expect, it } from 'vitest'
import { hitTest, SpatialGrid, thinHandles, type HitTarget } from '../../../src-renderer/src/geometry/geometry.ts'

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

function targetsOf(count: number, seed: number): HitTarget[] {
  const next = random(seed)
  return Array.from({ length: count }, (_, id) => {
    const x = next() * 6000
    const y = next() * 4000
    const w = 1 + next() * (next() < 0.05 ? 2000 : 150)
    const h = 1 + next() * 150
    return { id, rings: [[x, y, x + w, y, x + w, y + h, x, y + h]], bbox: [x, y, w, h] as const }
  })
}

describe('SpatialGrid', () => {
  it('finds the same boxes as a scan, for points and rectangles, with and without margin', () => {
    const targets = targetsOf(3000, 1)
    const boxes = targets.map((t) => t.bbox)
    const grid = new SpatialGrid(boxes)
    const next = random(2)
    for (let q = 0; q < 300; q++) {
      const x0 = next() * 6200 - 100
      const y0 = next() * 4200 - 100
      const big = q % 10 === 0
      const x1 = x0 + (big ? next() * 6000 : q % 2 ? 0 : next() * 300)
      const y1 = y0 + (big ? next() * 4000 : q % 2 ? 0 : next() * 300)
      const margin = q % 3 === 0 ? 5 : 0
      const scan = boxes
        .map((b, i) => [b, i] as const)
        .filter(
          ([[bx, by, bw, bh]]) =>
            bx <= x1 + margin && by <= y1 + margin && bx + bw >= x0 - margin && by + bh >= y0 - margin,
        )
        .map(([, i]) => i)
      expect(grid.query(x0, y0, x1, y1, margin)).toEqual(scan)
    }
  })

  it('hit-tests like the scan of every target (topmost first)', () => {
    const targets = targetsOf(2000, 3)
    const index = new SpatialGrid(targets.map((t) => t.bbox))
    const next = random(4)
    for (let q = 0; q < 2000; q++) {
      const p = { x: next() * 6000, y: next() * 4000 }
      expect(hitTest(targets, p, 2, null, { index })).toEqual(hitTest(targets, p, 2, null))
    }
  })

  it('copes with no boxes and with one huge box', () => {
    expect(new SpatialGrid([]).query(0, 0, 10, 10)).toEqual([])
    const grid = new SpatialGrid([[0, 0, 1e5, 1e5]])
    expect(grid.query(5e4, 5e4, 5e4, 5e4)).toEqual([0])
  })
})

describe('thinHandles', () => {
  // A 172-vertex ring, like the polygon the issue saw: a circle of radius 60 image pixels.
  const ring = Array.from({ length: 172 }, (_, i) => {
    const a = (2 * Math.PI * i) / 172
    return [300 + 60 * Math.cos(a), 200 + 60 * Math.sin(a)]
  }).flat()
  const hole = Array.from({ length: 40 }, (_, i) => {
    const a = (2 * Math.PI * i) / 40
    return [300 + 58 * Math.cos(a), 200 + 58 * Math.sin(a)]
  }).flat()

  function minScreenDistance(rings: number[][], shown: number[][], scale: number): number {
    const points = shown.flatMap((vs, r) => vs.map((v) => [rings[r][2 * v], rings[r][2 * v + 1]]))
    let min = Infinity
    for (let i = 0; i < points.length; i++)
      for (let j = i + 1; j < points.length; j++)
        min = Math.min(min, Math.hypot(points[i][0] - points[j][0], points[i][1] - points[j][1]) * scale)
    return min
  }

  it('at fit zoom, keeps handles at least the spacing apart (across rings too) and still outlines the ring', () => {
    const scale = 0.25
    const shown = thinHandles([ring, hole], scale, 10)
    expect(minScreenDistance([ring, hole], shown, scale)).toBeGreaterThanOrEqual(10)
    // The ring is 2π·60·0.25 ≈ 94 screen px around: about 9 handles fit, far fewer than 172.
    expect(shown[0].length).toBeGreaterThanOrEqual(6)
    expect(shown[0].length).toBeLessThan(12)
    // The hole runs 0.5 screen px inside the ring: its handles would overlap the ring's.
    expect(shown[1]).toEqual([])
  })

  it('zoomed in, shows every vertex', () => {
    // Neighbouring vertices are 2π·60/172 ≈ 2.2 image px apart: 5x puts them 11 screen px apart.
    const shown = thinHandles([ring], 5, 10)
    expect(shown[0]).toEqual(Array.from({ length: 172 }, (_, i) => i))
  })

  it('a hit on a hidden vertex is an edge hit, not a grab of a handle no one sees', () => {
    const target: HitTarget = { id: 1, rings: [ring], bbox: [240, 140, 120, 120] }
    const scale = 0.25
    const handles = thinHandles([ring], scale, 10)
    const hidden = [...Array(172).keys()].find((v) => !handles[0].includes(v)) as number
    const p = { x: ring[2 * hidden], y: ring[2 * hidden + 1] }
    expect(hitTest([target], p, 6 / scale, 1)).toMatchObject({ kind: 'vertex', vertex: hidden })
    expect(hitTest([target], p, 1, 1, { handles })).toMatchObject({ kind: 'edge' })
  })
})
