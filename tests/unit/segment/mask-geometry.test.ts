// Fidelity and validity of the logits-to-outline step: the outline, rasterised the way COCO
// tools do (pycocotools port) and the way we do (rasterizeShape), must give upstream's mask
// back; rings must be valid polygons whatever the shape.

import { describe, expect, it } from 'vitest'
import {
  crossingRings,
  ringContains,
  segmentsIntersect,
  DEFAULT_MIN_AREA,
  logitsToShape,
  ringArea,
  traceZeroLevel,
  type Ring,
  type Shape,
} from '../../../src-main/core/segment/mask-geometry.ts'
import { rasterizeShape, rleDecode, rleEncode, rleToString } from '../../../src-main/core/segment/rle.ts'
import { toCocoSegmentation } from '../../../src-main/core/segment/segmentation.ts'
import { frPolygons, iou, merge, type CocoRle } from '../../helpers/pycocotools.ts'
import { referenceMask } from '../../helpers/reference-mask.ts'
import { mulberry32 } from '../../helpers/synthetic.ts'

const G = 256

/** Logits sampled at the 256x256 sample centres from a signed-distance-like field in pixels. */
function logitsFrom(W: number, H: number, sd: (x: number, y: number) => number): Float32Array {
  const cell = Math.min(W, H) / G
  const g = new Float32Array(G * G)
  for (let j = 0; j < G; j++) {
    for (let i = 0; i < G; i++) {
      const v = (sd(((i + 0.5) * W) / G, ((j + 0.5) * H) / G) / cell) * 2
      g[j * G + i] = Math.max(-32, Math.min(32, v))
    }
  }
  return g
}

const disc = (cx: number, cy: number, r: number) => (x: number, y: number) => r - Math.hypot(x - cx, y - cy)
const box = (cx: number, cy: number, hw: number, hh: number, angle: number) => (x: number, y: number) => {
  const c = Math.cos(angle),
    s = Math.sin(angle)
  const u = (x - cx) * c + (y - cy) * s
  const v = -(x - cx) * s + (y - cy) * c
  return Math.min(hw - Math.abs(u), hh - Math.abs(v))
}
const union =
  (...fs: ((x: number, y: number) => number)[]) =>
  (x: number, y: number) =>
    Math.max(...fs.map((f) => f(x, y)))
const minus = (a: (x: number, y: number) => number, b: (x: number, y: number) => number) => (x: number, y: number) =>
  Math.min(a(x, y), -b(x, y))

type Field = (W: number, H: number) => (x: number, y: number) => number
const SHAPES: Record<string, Field> = {
  circle: (W, H) => disc(0.45 * W, 0.5 * H, 0.3 * Math.min(W, H)),
  rotatedRect: (W, H) => box(0.5 * W, 0.5 * H, 0.3 * Math.min(W, H), 0.12 * Math.min(W, H), 0.5),
  // Annulus with an island in its hole: the island is a separate part, inside the hole.
  ringWithIsland: (W, H) => {
    const m = Math.min(W, H)
    return union(
      minus(disc(0.5 * W, 0.5 * H, 0.4 * m), disc(0.5 * W, 0.5 * H, 0.25 * m)),
      disc(0.5 * W, 0.5 * H, 0.1 * m),
    )
  },
  lShape: (W, H) => {
    const m = Math.min(W, H)
    return union(
      box(0.35 * W, 0.5 * H, 0.08 * m, 0.3 * m, 0),
      box(0.35 * W + 0.15 * m, 0.5 * H + 0.22 * m, 0.23 * m, 0.08 * m, 0),
    )
  },
  severalParts: (W, H) => {
    const m = Math.min(W, H)
    return union(
      disc(0.25 * W, 0.3 * H, 0.12 * m),
      disc(0.7 * W, 0.35 * H, 0.15 * m),
      box(0.5 * W, 0.8 * H, 0.2 * m, 0.06 * m, 0.2),
    )
  },
  touchingBorder: (W, H) =>
    union(disc(0.05 * W, 0.1 * H, 0.35 * Math.min(W, H)), box(0.5 * W, 0.97 * H, W, 0.06 * H, 0)),
  thinBar: (W, H) => {
    const m = Math.min(W, H)
    return box(0.5 * W, 0.5 * H, 0.4 * m, Math.max(6, 0.02 * m), 0.3)
  },
  noise: (W, H) => {
    const rand = mulberry32(W * 31 + H)
    const bumps = Array.from({ length: 40 }, () => ({
      x: rand() * W,
      y: rand() * H,
      s: (0.04 + 0.08 * rand()) * Math.min(W, H),
      a: rand() < 0.65 ? 1 : -1.2,
    }))
    const m = Math.min(W, H)
    return (x, y) => {
      let v = -0.35
      for (const b of bumps) v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s))
      return v * 0.1 * m
    }
  },
}

const SIZES: [number, number][] = [
  [256, 256],
  [1024, 1024],
  [4000, 3000],
  [500, 1500],
  [6000, 1000],
  [3000, 2000],
]

/**
 * Upstream's mask as a full-image RLE, computed only on a crop that holds every pixel where
 * the field can be > 0 (one sample around the positive samples), so big images stay cheap.
 */
function referenceRle(logits: Float32Array, W: number, H: number): CocoRle {
  let i0 = G,
    i1 = -1,
    j0 = G,
    j1 = -1
  for (let j = 0; j < G; j++) {
    for (let i = 0; i < G; i++) {
      if (logits[j * G + i] > 0) {
        i0 = Math.min(i0, i)
        i1 = Math.max(i1, i)
        j0 = Math.min(j0, j)
        j1 = Math.max(j1, j)
      }
    }
  }
  if (i1 < 0) return { h: H, w: W, cnts: [W * H] }
  const crop = {
    x0: Math.max(0, Math.floor(((i0 - 1 + 0.5) * W) / G)),
    x1: Math.min(W, Math.ceil(((i1 + 1 + 0.5) * W) / G) + 1),
    y0: Math.max(0, Math.floor(((j0 - 1 + 0.5) * H) / G)),
    y1: Math.min(H, Math.ceil(((j1 + 1 + 0.5) * H) / G) + 1),
  }
  const mask = referenceMask(logits, G, G, W, H, crop)
  const cw = crop.x1 - crop.x0
  // Column-major indices where the value flips; a run that continues into the next column
  // would flip twice at the same index, which cancels.
  const flips: number[] = []
  const flip = (at: number) => {
    if (flips.length && flips[flips.length - 1] === at) flips.pop()
    else flips.push(at)
  }
  for (let x = crop.x0; x < crop.x1; x++) {
    let value = 0
    for (let y = crop.y0; y < crop.y1; y++) {
      const v = mask[(y - crop.y0) * cw + (x - crop.x0)]
      if (v !== value) {
        flip(x * H + y)
        value = v
      }
    }
    if (value === 1) flip(x * H + crop.y1)
  }
  const cnts: number[] = []
  let last = 0
  for (const f of flips) {
    cnts.push(f - last)
    last = f
  }
  cnts.push(W * H - last)
  return { h: H, w: W, cnts }
}

function referenceRleFull(mask: Uint8Array, W: number, H: number): CocoRle {
  return { h: H, w: W, cnts: rleEncode(mask, W, H).counts }
}

/**
 * COCO's reading of the shape: each part's outer polygon minus its holes, rasterised by the
 * pycocotools port, with coordinates rounded to 2 decimals as the export writes them.
 */
function cocoRle(shape: Shape, W: number, H: number): CocoRle {
  const r2 = (ring: Ring) => ring.map((v) => Math.round(v * 100) / 100)
  const parts = shape.parts.map((p) => {
    const outer = frPolygons([r2(p.outer)], H, W)
    if (p.holes.length === 0) return outer
    const holes = frPolygons(p.holes.map(r2), H, W)
    // outer AND NOT holes: intersect with the complement of the holes.
    const inv = { h: H, w: W, cnts: holes.cnts[0] === 0 ? holes.cnts.slice(1) : [0, ...holes.cnts] }
    return merge([outer, inv], true)
  })
  return parts.length ? merge(parts) : { h: H, w: W, cnts: [W * H] }
}

// ---- an independent polygon validity checker (brute force) ----

function orientation(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return Math.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))
}
function segsTouch(a: number[], b: number[]): boolean {
  const [ax, ay, bx, by] = a,
    [cx, cy, dx, dy] = b
  const o1 = orientation(ax, ay, bx, by, cx, cy),
    o2 = orientation(ax, ay, bx, by, dx, dy)
  const o3 = orientation(cx, cy, dx, dy, ax, ay),
    o4 = orientation(cx, cy, dx, dy, bx, by)
  if (o1 !== o2 && o3 !== o4) return true
  const within = (px: number, py: number, qx: number, qy: number, rx: number, ry: number) =>
    Math.min(px, qx) <= rx && rx <= Math.max(px, qx) && Math.min(py, qy) <= ry && ry <= Math.max(py, qy)
  return (
    (o1 === 0 && within(ax, ay, bx, by, cx, cy)) ||
    (o2 === 0 && within(ax, ay, bx, by, dx, dy)) ||
    (o3 === 0 && within(cx, cy, dx, dy, ax, ay)) ||
    (o4 === 0 && within(cx, cy, dx, dy, bx, by))
  )
}
function segments(r: Ring): number[][] {
  const n = r.length / 2
  return Array.from({ length: n }, (_, i) => [
    r[2 * i],
    r[2 * i + 1],
    r[(2 * i + 2) % r.length],
    r[(2 * i + 3) % r.length],
  ])
}
function inside(r: Ring, x: number, y: number): boolean {
  let c = false
  for (const [x0, y0, x1, y1] of segments(r)) {
    if (y0 > y !== y1 > y && x < ((x1 - x0) * (y - y0)) / (y1 - y0) + x0) c = !c
  }
  return c
}
function selfIntersects(r: Ring): boolean {
  const s = segments(r)
  const n = s.length
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (j === i + 1 || (i === 0 && j === n - 1)) continue
      if (segsTouch(s[i], s[j])) return true
    }
  }
  return false
}
function ringsTouch(a: Ring, b: Ring): boolean {
  const sa = segments(a),
    sb = segments(b)
  return sa.some((p) => sb.some((q) => segsTouch(p, q)))
}

function expectValidShape(shape: Shape, W: number, H: number): void {
  const all: Ring[] = []
  for (const part of shape.parts) {
    expect(ringArea(part.outer)).toBeGreaterThan(0)
    for (const hole of part.holes) {
      expect(ringArea(hole)).toBeLessThan(0)
      for (let i = 0; i < hole.length; i += 2) expect(inside(part.outer, hole[i], hole[i + 1])).toBe(true)
    }
    all.push(part.outer, ...part.holes)
  }
  for (const r of all) {
    expect(r.length % 2).toBe(0)
    const distinct = new Set<string>()
    for (let i = 0; i < r.length; i += 2) {
      expect(r[i]).toBeGreaterThanOrEqual(0)
      expect(r[i]).toBeLessThanOrEqual(W)
      expect(r[i + 1]).toBeGreaterThanOrEqual(0)
      expect(r[i + 1]).toBeLessThanOrEqual(H)
      distinct.add(`${r[i]},${r[i + 1]}`)
    }
    expect(distinct.size).toBeGreaterThanOrEqual(3)
    // Closed implicitly: the first point is not repeated at the end.
    expect(r[0] === r[r.length - 2] && r[1] === r[r.length - 1]).toBe(false)
    expect(selfIntersects(r)).toBe(false)
  }
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) expect(ringsTouch(all[i], all[j])).toBe(false)
  }
  // Parts are separate: a part's outer lies outside every other part, unless in one of its holes.
  for (const p of shape.parts) {
    for (const q of shape.parts) {
      if (p === q) continue
      const x = p.outer[0],
        y = p.outer[1]
      const inQ = inside(q.outer, x, y) && !q.holes.some((h) => inside(h, x, y))
      expect(inQ).toBe(false)
    }
  }
}

describe('referenceMask', () => {
  it('matches a direct PyTorch-style bilinear resize with clamped borders', () => {
    const rand = mulberry32(7)
    const gw = 5,
      gh = 4,
      W = 13,
      H = 9
    const g = new Float32Array(gw * gh).map(() => rand() * 2 - 1)
    const mask = referenceMask(g, gw, gh, W, H)
    const src = (j: number, n: number, out: number) => Math.max(0, ((j + 0.5) * n) / out - 0.5)
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sx = src(x, gw, W),
          sy = src(y, gh, H)
        const x0 = Math.floor(sx),
          y0 = Math.floor(sy)
        const x1 = Math.min(x0 + 1, gw - 1),
          y1 = Math.min(y0 + 1, gh - 1)
        const lx = sx - x0,
          ly = sy - y0
        const v =
          (1 - ly) * ((1 - lx) * g[y0 * gw + x0] + lx * g[y0 * gw + x1]) +
          ly * ((1 - lx) * g[y1 * gw + x0] + lx * g[y1 * gw + x1])
        expect(mask[y * W + x]).toBe(v > 0 ? 1 : 0)
      }
    }
  })

  it('returns exactly the crop of the full mask', () => {
    const g = logitsFrom(300, 200, SHAPES.noise(300, 200))
    const full = referenceMask(g, G, G, 300, 200)
    const crop = { x0: 17, y0: 33, x1: 250, y1: 120 }
    const part = referenceMask(g, G, G, 300, 200, crop)
    const cw = crop.x1 - crop.x0
    let diff = 0
    for (let y = crop.y0; y < crop.y1; y++) {
      for (let x = crop.x0; x < crop.x1; x++) if (part[(y - crop.y0) * cw + x - crop.x0] !== full[y * 300 + x]) diff++
    }
    expect(diff).toBe(0)
    expect(() => referenceMask(g, G, G, 300, 200, { x0: 0, y0: 0, x1: 301, y1: 10 })).toThrow(/crop/)
  })

  it('rejects logits of the wrong length', () => {
    expect(() => referenceMask(new Float32Array(10), G, G, 100, 100)).toThrow(/65536/)
    expect(() => logitsToShape(new Float32Array(10), G, G, 100, 100)).toThrow(/65536/)
  })
})

describe('logitsToShape fidelity', () => {
  for (const [W, H] of SIZES) {
    for (const [name, make] of Object.entries(SHAPES)) {
      it(`${name} at ${W}x${H}: IoU >= 0.99 with upstream's mask, valid rings`, () => {
        const logits = logitsFrom(W, H, make(W, H))
        const shape = logitsToShape(logits, G, G, W, H)
        const ref = referenceRle(logits, W, H)
        expect(shape.parts.length).toBeGreaterThan(0)
        const viaCoco = iou(cocoRle(shape, W, H), ref)
        const ours = rasterizeShape(shape, W, H)
        const viaOurs = iou({ h: H, w: W, cnts: ours.counts }, ref)
        expect(viaCoco).toBeGreaterThanOrEqual(0.99)
        expect(viaOurs).toBeGreaterThanOrEqual(0.99)
        // What a COCO reader gets from the export itself (polygons, or our RLE when there are holes).
        const seg = toCocoSegmentation(shape, W, H)
        if (Array.isArray(seg.segmentation)) {
          expect(iou(frPolygons(seg.segmentation, H, W), ref)).toBeGreaterThanOrEqual(0.99)
        } else {
          expect(seg.segmentation.counts).toBe(rleToString(ours).counts)
        }
        expectValidShape(shape, W, H)
        // No staircase: most vertices are off the lines between logit cells.
        const cw = W / G,
          ch = H / G
        let onGrid = 0,
          total = 0
        const near = (v: number, step: number) => Math.abs(v / step - Math.round(v / step)) < 1e-6
        for (const p of shape.parts) {
          for (const r of [p.outer, ...p.holes]) {
            for (let i = 0; i < r.length; i += 2) {
              total++
              if (near(r[i], cw) && near(r[i + 1], ch)) onGrid++
            }
          }
        }
        expect(onGrid / total).toBeLessThan(0.25)
      })
    }
  }

  it('keeps the annulus hole and the island inside it as a separate part', () => {
    const W = 1024,
      H = 1024
    const shape = logitsToShape(logitsFrom(W, H, SHAPES.ringWithIsland(W, H)), G, G, W, H)
    expect(shape.parts.length).toBe(2)
    expect(shape.parts[0].holes.length).toBe(1)
    expect(shape.parts[1].holes.length).toBe(0)
    // The island sits in the annulus's hole.
    expect(inside(shape.parts[0].holes[0], shape.parts[1].outer[0], shape.parts[1].outer[1])).toBe(true)
  })

  it('follows the exact curve inside large cells (no chords between cell edges)', () => {
    // 20000 px: ~78 px per logit cell. A disc a few cells wide: chords between cell-edge
    // crossings would cut its 0-level visibly; the traced outline must not.
    const W = 20000,
      H = 20000
    const logits = logitsFrom(W, H, disc(10000, 10000, 150))
    const shape = logitsToShape(logits, G, G, W, H, { tolerance: 0 })
    const ref = referenceRle(logits, W, H)
    const ours = rasterizeShape(shape, W, H)
    expect(iou({ h: H, w: W, cnts: ours.counts }, ref)).toBeGreaterThan(0.997)
    // Every vertex lies on the exact 0-level: the field changes sign within 0.5 px of it.
    const outer = shape.parts[0].outer
    for (let k = 0; k < outer.length; k += 2) {
      const x = Math.round(outer[k]),
        y = Math.round(outer[k + 1])
      const m = referenceMask(logits, G, G, W, H, { x0: x - 1, y0: y - 1, x1: x + 1, y1: y + 1 })
      expect(m.every((v) => v === m[0])).toBe(false)
    }
  })
})

describe('logitsToShape topology and borders', () => {
  // 4x4 logits upscaled to 400x400: one cell with two positive diagonal corners.
  function saddle(diagonal: 'main' | 'anti', others: number): Float32Array {
    const g = new Float32Array(16).fill(-1)
    const [p, q] =
      diagonal === 'main'
        ? [
            [1, 1],
            [2, 2],
          ]
        : [
            [2, 1],
            [1, 2],
          ]
    const [r, t] =
      diagonal === 'main'
        ? [
            [2, 1],
            [1, 2],
          ]
        : [
            [1, 1],
            [2, 2],
          ]
    g[p[1] * 4 + p[0]] = 1
    g[q[1] * 4 + q[0]] = 1
    g[r[1] * 4 + r[0]] = others
    g[t[1] * 4 + t[0]] = others
    return g
  }
  const mismatch = (g: Float32Array, shape: Shape) => {
    const ref = referenceMask(g, 4, 4, 400, 400)
    const ours = rasterizeShape(shape, 400, 400)
    return iou({ h: 400, w: 400, cnts: ours.counts }, referenceRleFull(ref, 400, 400))
  }
  for (const diagonal of ['main', 'anti'] as const) {
    it(`joins a saddle cell (${diagonal} diagonal) when the bilinear field is positive at the saddle point`, () => {
      const joined = saddle(diagonal, -0.2)
      const a = logitsToShape(joined, 4, 4, 400, 400, { minArea: 0, tolerance: 0 })
      expect(a.parts.length).toBe(1)
      expect(mismatch(joined, a)).toBeGreaterThan(0.995)
      const separate = saddle(diagonal, -3)
      const b = logitsToShape(separate, 4, 4, 400, 400, { minArea: 0, tolerance: 0 })
      expect(b.parts.length).toBe(2)
      expect(mismatch(separate, b)).toBeGreaterThan(0.995)
      expectValidShape(b, 400, 400)
    })
  }

  it('is exact in the half-cell strip along the image border, where the field is constant', () => {
    const W = 2000,
      H = 1500
    const logits = logitsFrom(W, H, union(disc(0, 300, 500), box(1000, 1500, 400, 200, 0.3)))
    const shape = logitsToShape(logits, G, G, W, H, { tolerance: 0 })
    const ours = rleDecode(rasterizeShape(shape, W, H))
    const strip = Math.ceil(W / G) + 2
    const refLeft = referenceMask(logits, G, G, W, H, { x0: 0, y0: 0, x1: strip, y1: H })
    let diff = 0
    for (let y = 0; y < H; y++) for (let x = 0; x < strip; x++) if (refLeft[y * strip + x] !== ours[y * W + x]) diff++
    expect(diff).toBe(0)
    const refBottom = referenceMask(logits, G, G, W, H, { x0: 0, y0: H - strip, x1: W, y1: H })
    diff = 0
    for (let y = H - strip; y < H; y++)
      for (let x = 0; x < W; x++) if (refBottom[(y - H + strip) * W + x] !== ours[y * W + x]) diff++
    expect(diff).toBe(0)
  })
})

describe('logitsToShape parts, holes and specks', () => {
  const W = 1000,
    H = 800

  it('drops parts and holes below minArea, keeps them with minArea 0', () => {
    const big = disc(500, 400, 200)
    const logits = logitsFrom(W, H, big)
    // A speck: one positive sample far from the disc (about 1 px² at this scale).
    logits[20 * G + 20] = 0.5
    // A pinhole: one negative sample inside the disc.
    logits[128 * G + 128] = -0.5
    const kept = logitsToShape(logits, G, G, W, H, { minArea: 0 })
    expect(kept.parts.length).toBe(2)
    expect(kept.parts[0].holes.length).toBe(1)
    const cleaned = logitsToShape(logits, G, G, W, H)
    expect(DEFAULT_MIN_AREA).toBeGreaterThan(Math.abs(ringArea(kept.parts[1].outer)))
    expect(cleaned.parts.length).toBe(1)
    expect(cleaned.parts[0].holes.length).toBe(0)
  })

  it('returns no parts for an all-negative field and keeps the whole image for an all-positive one', () => {
    expect(logitsToShape(new Float32Array(G * G).fill(-3), G, G, W, H).parts).toEqual([])
    const full = logitsToShape(new Float32Array(G * G).fill(3), G, G, W, H)
    expect(full.parts.length).toBe(1)
    expect(ringArea(full.parts[0].outer)).toBeCloseTo(W * H, 6)
    const seg = toCocoSegmentation(full, W, H)
    expect(seg.area).toBe(W * H)
    expect(seg.bbox).toEqual([0, 0, W, H])
  })

  it('orients outer rings clockwise on screen (positive shoelace, y down) and holes the other way', () => {
    const shape = logitsToShape(logitsFrom(W, H, SHAPES.ringWithIsland(W, H)), G, G, W, H)
    for (const p of shape.parts) {
      expect(ringArea(p.outer)).toBeGreaterThan(0)
      for (const h of p.holes) expect(ringArea(h)).toBeLessThan(0)
    }
  })

  it('simplifies less where the tolerance would cost area, more with a looser budget', () => {
    const logits = logitsFrom(256, 256, disc(100, 120, 12))
    const strict = logitsToShape(logits, G, G, 256, 256)
    const loose = logitsToShape(logits, G, G, 256, 256, { maxAreaError: 1 })
    expect(strict.parts[0].outer.length).toBeGreaterThan(loose.parts[0].outer.length)
    expect(() => logitsToShape(logits, G, G, 256, 256, { tolerance: -1 })).toThrow(/tolerance/)
  })
})

describe('logitsToShape + toCocoSegmentation at full size', () => {
  // One run for correctness; how long it takes is the 4000x3000 "postprocess" column of
  // `npm run bench -- engine`, where a loaded machine cannot make a test flaky or slow.
  it('4000x3000, an object of a quarter of the image', () => {
    const W = 4000,
      H = 3000
    // Area ~ W*H/4: an ellipse-ish blob with a bump, not touching the border.
    const f = union(box(2000, 1500, 1000, 750, 0.15), disc(2900, 900, 300))
    const logits = logitsFrom(W, H, (x, y) => Math.min(f(x, y), 0.6 * disc(2000, 1500, 1350)(x, y) + 200))
    const shape = logitsToShape(logits, G, G, W, H)
    const { area } = toCocoSegmentation(shape, W, H)
    expect(area).toBeGreaterThan(0.15 * W * H)
  })
})

describe('fragmented masks (the random-weight model): bounded indexes give the all-pairs answers', () => {
  /** Noise logits, like an export with random weights: hundreds of parts and holes. */
  function noise(seed: number): Float32Array {
    const rand = mulberry32(seed)
    return Float32Array.from({ length: 256 * 256 }, () => rand() * 2 - 1)
  }

  it('gives every hole to the smallest part that contains it', () => {
    for (const seed of [1, 2]) {
      const shape = logitsToShape(noise(seed), 256, 256, 1024, 768, {})
      expect(shape.parts.length).toBeGreaterThan(100)
      const outers = shape.parts.map((p) => ({ ring: p.outer, area: ringArea(p.outer) }))
      let holes = 0
      for (const part of shape.parts) {
        const area = ringArea(part.outer)
        for (const hole of part.holes) {
          holes++
          const [x, y] = hole
          expect(ringContains(part.outer, x, y)).toBe(true)
          // No smaller part's outline holds it: that part would be its owner.
          const smaller = outers.filter((o) => o.area < area && o.area > -ringArea(hole) && ringContains(o.ring, x, y))
          expect(smaller).toEqual([])
        }
      }
      expect(holes).toBeGreaterThan(50)
    }
  })

  it('finds the crossing rings an all-pairs check finds', () => {
    const rand = mulberry32(9)
    const rings: number[][] = Array.from({ length: 60 }, () => {
      const cx = rand() * 500,
        cy = rand() * 500,
        r = 5 + rand() * 40
      const n = 3 + Math.floor(rand() * 12)
      return Array.from({ length: n }, (_, i) => {
        const a = (i / n) * 2 * Math.PI,
          rr = r * (0.5 + rand())
        return [cx + rr * Math.cos(a), cy + rr * Math.sin(a)]
      }).flat()
    })
    const brute = new Set<number>()
    const edges = rings.flatMap((ring, ri) =>
      Array.from({ length: ring.length / 2 }, (_, i) => ({ ri, i, n: ring.length / 2 })),
    )
    for (let a = 0; a < edges.length; a++) {
      for (let b = a + 1; b < edges.length; b++) {
        const p = edges[a],
          q = edges[b]
        const rp = rings[p.ri],
          rq = rings[q.ri]
        const jp = (p.i + 1) % p.n,
          jq = (q.i + 1) % q.n
        if (p.ri === q.ri && (jp === q.i || jq === p.i)) continue // neighbours: no fold-backs here
        if (
          segmentsIntersect(
            rp[2 * p.i],
            rp[2 * p.i + 1],
            rp[2 * jp],
            rp[2 * jp + 1],
            rq[2 * q.i],
            rq[2 * q.i + 1],
            rq[2 * jq],
            rq[2 * jq + 1],
          )
        ) {
          brute.add(p.ri)
          brute.add(q.ri)
        }
      }
    }
    expect(brute.size).toBeGreaterThan(5)
    expect([...crossingRings(rings)].sort((a, b) => a - b)).toEqual([...brute].sort((a, b) => a - b))
  })

  it('leaves out specks below minArea before following their curve, and only those', () => {
    // 4000x3000: cells of ~16x12 px, where the curve inside a cell adds vertices; 300x200:
    // cells of ~1 px. Both on noise with many rings near the threshold.
    for (const [W, H, minArea] of [
      [4000, 3000, 400],
      [300, 200, 4],
    ]) {
      const logits = noise(3)
      const all = traceZeroLevel(logits, 256, 256, W, H)
      const early = traceZeroLevel(logits, 256, 256, W, H, minArea)
      const key = (r: Ring) => r.join(',')
      const earlyKeys = new Set(early.map(key))
      // Every ring the minimum area keeps is traced exactly as without it...
      const needed = all.filter((r) => Math.abs(ringArea(r)) >= minArea)
      for (const r of needed) expect(earlyKeys.has(key(r))).toBe(true)
      // ...nothing new appears, and most of the specks were never traced in full.
      const allKeys = new Set(all.map(key))
      for (const r of early) expect(allKeys.has(key(r))).toBe(true)
      const specks = all.length - needed.length
      expect(specks).toBeGreaterThan(100)
      expect(all.length - early.length).toBeGreaterThan(0.8 * specks)
    }
  })
})
