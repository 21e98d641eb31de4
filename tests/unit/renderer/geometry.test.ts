// The canvas's pure geometry: camera maths and hit-testing (vertex before edge before body).
import { describe, expect, it } from 'vitest'
import {
  actualSizeCamera,
  boxFrom,
  fitCamera,
  hitTest,
  insertVertex,
  moveVertex,
  pointInRings,
  pointNear,
  removeVertex,
  toImage,
  toScreen,
  zoomAt,
  type HitTarget,
} from '../../../src-renderer/src/geometry/geometry.ts'

const square = (x: number, y: number, s: number) => [x, y, x + s, y, x + s, y + s, x, y + s]

describe('camera', () => {
  it('zooming at a point keeps the image pixel under it in place', () => {
    const camera = { scale: 0.5, x: 10, y: 20 }
    const at = { x: 300, y: 200 }
    const before = toImage(camera, at)
    const zoomed = zoomAt(camera, at, 3)
    expect(zoomed.scale).toBeCloseTo(1.5)
    const after = toImage(zoomed, at)
    expect(after.x).toBeCloseTo(before.x)
    expect(after.y).toBeCloseTo(before.y)
    expect(toScreen(zoomed, after).x).toBeCloseTo(at.x)
  })

  it('fit centres the whole image in the view; 1:1 keeps the centre', () => {
    const camera = fitCamera({ width: 6000, height: 4000 }, { width: 1000, height: 800 }, 0)
    expect(camera.scale).toBeCloseTo(1000 / 6000)
    expect(camera.y).toBeCloseTo((800 - 4000 * camera.scale) / 2)
    const centre = toImage(camera, { x: 500, y: 400 })
    const actual = actualSizeCamera(camera, { width: 1000, height: 800 })
    expect(actual.scale).toBeCloseTo(1)
    expect(toImage(actual, { x: 500, y: 400 }).x).toBeCloseTo(centre.x)
  })
})

describe('polygons', () => {
  it('even-odd: a hole is outside', () => {
    const rings = [square(0, 0, 10), square(3, 3, 4)]
    expect(pointInRings(rings, { x: 1, y: 1 })).toBe(true)
    expect(pointInRings(rings, { x: 5, y: 5 })).toBe(false)
  })

  it('moves, inserts and removes vertices without touching the input', () => {
    const rings = [square(0, 0, 10)]
    expect(moveVertex(rings, 0, 1, { x: 20, y: 0 })[0].slice(0, 4)).toEqual([0, 0, 20, 0])
    expect(insertVertex(rings, 0, 0, { x: 5, y: -1 })[0].slice(0, 6)).toEqual([0, 0, 5, -1, 10, 0])
    expect(removeVertex(rings, 0, 0)![0]).toEqual([10, 0, 10, 10, 0, 10])
    expect(removeVertex([[0, 0, 1, 0, 0, 1]], 0, 0)).toBeNull()
    expect(rings[0]).toEqual(square(0, 0, 10))
  })

  it('orders box corners and finds prompt points by distance', () => {
    expect(boxFrom({ x: 5, y: 1 }, { x: 2, y: 9 })).toEqual({ x0: 2, y0: 1, x1: 5, y1: 9 })
    const points = [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
    ]
    expect(pointNear(points, { x: 9, y: 1 }, 3)).toBe(1)
    expect(pointNear(points, { x: 5, y: 5 }, 3)).toBe(-1)
  })
})

describe('hitTest', () => {
  const targets: HitTarget[] = [
    { id: 1, rings: [square(0, 0, 100)], bbox: [0, 0, 100, 100] },
    { id: 2, rings: [square(50, 50, 100)], bbox: [50, 50, 100, 100] },
  ]

  it('bodies: topmost (last) first, none outside', () => {
    expect(hitTest(targets, { x: 75, y: 75 }, 2, null)).toEqual({ kind: 'body', id: 2 })
    expect(hitTest(targets, { x: 10, y: 10 }, 2, null)).toEqual({ kind: 'body', id: 1 })
    expect(hitTest(targets, { x: 200, y: 10 }, 2, null)).toBeNull()
  })

  it('on the selection: vertex before edge before body', () => {
    expect(hitTest(targets, { x: 101, y: 99 }, 3, 1)).toMatchObject({ kind: 'vertex', id: 1, vertex: 2 })
    expect(hitTest(targets, { x: 30, y: 1 }, 3, 1)).toMatchObject({
      kind: 'edge',
      id: 1,
      after: 0,
      at: { x: 30, y: 0 },
    })
    // Without selection the same place is only a body.
    expect(hitTest(targets, { x: 30, y: 1 }, 3, null)).toEqual({ kind: 'body', id: 1 })
    // The selection's vertex wins over a body on top of it.
    expect(hitTest(targets, { x: 100, y: 100 }, 3, 1)).toMatchObject({ kind: 'vertex', id: 1 })
  })
})
