// From the decoder's 256x256 low-resolution mask logits to the object's geometry in original
// image pixels (COCO's continuous frame: pixel (x, y) covers [x, x+1) x [y, y+1)).
//
// Upstream SAM 2 bilinearly resizes the logits to W x H (align_corners = false) and keeps
// the pixels whose value is > 0. In continuous coordinates that is one field: logit sample i
// sits at (i + 0.5) * W / gridW, the field is bilinear between sample centres and constant
// beyond the outermost ones, and the reference mask is the set of pixel centres where the
// field is > 0. `referenceMask` (tests/helpers/reference-mask.ts) computes that mask;
// `logitsToShape` traces the field's 0-level set directly (sub-pixel, no staircase), so
// rasterising the outline by pixel centres gives the reference mask back up to the
// simplification tolerance.
//
// Why not d3-contour: its marching squares resolves every saddle cell as "separated" whatever
// the bilinear field says, assigns a hole to the first outer ring that contains it (wrong for
// an island inside a hole inside another part), and draws diagonals in the half-cell strip
// along the image border where the clamped field is constant. The tracer below is about as
// short, decides saddles with the bilinear field's value at the saddle point, pins the border
// strip exactly, and works on typed arrays over the positive samples' bounding box only.

import type { OutlinePart, Ring } from '../../../src-preload/contract/schemas.ts'

export type { Ring }

/** An object's outline: separate parts (largest first), each with its own holes. */
export interface Shape {
  parts: OutlinePart[]
}

export interface LogitsToShapeOptions {
  /** Douglas–Peucker tolerance in image pixels (default 1). 0 keeps every traced vertex. */
  tolerance?: number
  /** Parts and holes smaller than this many square pixels are dropped (default {@link DEFAULT_MIN_AREA}). */
  minArea?: number
  /**
   * Largest area a ring's simplification may cost, as a fraction of the ring's area (default
   * {@link DEFAULT_MAX_AREA_ERROR}); a ring over budget is simplified again with a smaller
   * tolerance. Without it a 1 px tolerance visibly shrinks small objects (IoU 0.88 for a
   * 10 px radius disc).
   */
  maxAreaError?: number
}

/**
 * Default speck size in square pixels. A single positive logit sample on a 4000-pixel-wide
 * image already covers ~180 px², so 16 px² only removes what no annotator would draw, and the
 * value does not depend on the image size (the user sees the same rule on every image).
 */
export const DEFAULT_MIN_AREA = 16

/** Keeps rasterised exports at IoU >= 0.99 with upstream's mask, with room for COCO's own rounding. */
export const DEFAULT_MAX_AREA_ERROR = 0.004

/** Where the traced chord may stray from the exact bilinear 0-level inside a cell, in pixels. */
const CURVE_TOLERANCE = 0.1
const MAX_CURVE_DEPTH = 12

/** Exported so the tests' reference mask refuses bad input exactly as the tracer does. */
export function checkGrid(logits: Float32Array, gridW: number, gridH: number, width: number, height: number): void {
  if (!Number.isInteger(gridW) || !Number.isInteger(gridH) || gridW < 1 || gridH < 1) {
    throw new RangeError(`mask logits grid must be positive integers, got ${gridW}x${gridH}`)
  }
  if (logits.length !== gridW * gridH) {
    throw new RangeError(`mask logits hold ${logits.length} values, expected ${gridW}x${gridH} = ${gridW * gridH}`)
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`)
  }
}

/** Shoelace area of a flat ring: positive for clockwise on screen (y down). */
export function ringArea(ring: Ring): number {
  const n = ring.length
  if (n < 6) return 0
  let s = ring[n - 2] * ring[1] - ring[0] * ring[n - 1]
  for (let i = 2; i < n; i += 2) s += ring[i - 2] * ring[i + 1] - ring[i] * ring[i - 1]
  return s / 2
}

/** Even-odd point-in-ring test. */
export function ringContains(ring: Ring, x: number, y: number): boolean {
  let inside = false
  const n = ring.length
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const xi = ring[i],
      yi = ring[i + 1],
      xj = ring[j],
      yj = ring[j + 1]
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

// Segments of each marching-squares case, as [from, to] over the cell's edges, directed so
// that the inside (field > 0) is on the right when walking on screen (y down): outer rings
// come out clockwise on screen, holes counter-clockwise. Corners: TL=1, TR=2, BR=4, BL=8.
const T = 0,
  R = 1,
  B = 2,
  L = 3
const CASES: readonly (readonly number[])[] = [
  [], // 0
  [T, L], // 1 TL
  [R, T], // 2 TR
  [R, L], // 3 TL TR
  [B, R], // 4 BR
  [], // 5 TL BR: saddle, decided per cell
  [B, T], // 6 TR BR
  [B, L], // 7 all but BL
  [L, B], // 8 BL
  [T, B], // 9 TL BL
  [], // 10 TR BL: saddle, decided per cell
  [R, B], // 11 all but BR
  [L, R], // 12 BR BL
  [T, R], // 13 all but TR
  [L, T], // 14 all but TL
  [], // 15
]
const SADDLE_5_SEPARATE = [T, L, B, R]
const SADDLE_5_JOINED = [T, R, B, L]
const SADDLE_10_SEPARATE = [R, T, L, B]
const SADDLE_10_JOINED = [L, T, R, B]

/** One local axis of the traced grid: source sample per index and its position in pixels. */
interface Axis {
  src: Int32Array
  pos: Float64Array
  outside: Uint8Array
}

// Local axis over samples lo..hi plus, on each side, one extra sample and one "outside"
// sample. The extra sample is the next logit (a margin that is not positive, so nothing is
// traced through it) or, at the image border, a replica of the border sample placed exactly
// on the border: the field between the two is then constant, as PyTorch's clamping makes it.
// The outside sample (value -inf, at the same position) closes rings along the border.
function makeAxis(lo: number, hi: number, n: number, size: number): Axis {
  const count = hi - lo + 5
  const src = new Int32Array(count)
  const pos = new Float64Array(count)
  const outside = new Uint8Array(count)
  const scale = size / n
  for (let k = 2; k < count - 2; k++) {
    src[k] = lo + k - 2
    pos[k] = (src[k] + 0.5) * scale
  }
  if (lo > 0) {
    src[1] = lo - 1
    pos[1] = (lo - 0.5) * scale
  } else {
    src[1] = 0
    pos[1] = 0
  }
  if (hi < n - 1) {
    src[count - 2] = hi + 1
    pos[count - 2] = (hi + 1.5) * scale
  } else {
    src[count - 2] = n - 1
    pos[count - 2] = size
  }
  src[0] = src[1]
  pos[0] = pos[1]
  outside[0] = 1
  src[count - 1] = src[count - 2]
  pos[count - 1] = pos[count - 2]
  outside[count - 1] = 1
  return { src, pos, outside }
}

/** Where the field crosses 0 between two samples, linearly (exact along cell edges). */
function crossing(p0: number, p1: number, v0: number, v1: number): number {
  if (v0 === -Infinity) return p1
  if (v1 === -Infinity) return p0
  return p0 + (v0 / (v0 - v1)) * (p1 - p0)
}

/**
 * The raw traced rings (not simplified), in pixel coordinates, with consecutive duplicates
 * removed. Rings whose area is certainly below `minArea` (see ringAreaBound) are left out
 * before their curve is followed inside the cells: on a fragmented mask most rings are specks.
 */
export function traceZeroLevel(
  logits: Float32Array,
  gridW: number,
  gridH: number,
  width: number,
  height: number,
  minArea = 0,
): Ring[] {
  checkGrid(logits, gridW, gridH, width, height)
  let bx0 = gridW,
    bx1 = -1,
    by0 = gridH,
    by1 = -1
  for (let j = 0; j < gridH; j++) {
    const row = j * gridW
    for (let i = 0; i < gridW; i++) {
      if (logits[row + i] > 0) {
        if (i < bx0) bx0 = i
        if (i > bx1) bx1 = i
        if (j < by0) by0 = j
        if (j > by1) by1 = j
      }
    }
  }
  if (bx1 < 0) return []
  const ax = makeAxis(bx0, bx1, gridW, width)
  const ay = makeAxis(by0, by1, gridH, height)
  const nx = ax.src.length
  const ny = ay.src.length
  const values = new Float64Array(nx * ny)
  for (let l = 0; l < ny; l++) {
    for (let k = 0; k < nx; k++) {
      values[l * nx + k] = ax.outside[k] || ay.outside[l] ? -Infinity : logits[ay.src[l] * gridW + ax.src[k]]
    }
  }

  // Edge ids: horizontal edge from sample (k,l) to (k+1,l) is 2*(l*nx+k), vertical edge from
  // (k,l) to (k,l+1) is 2*(l*nx+k)+1. Each crossed edge is left by exactly one segment.
  const next = new Int32Array(2 * nx * ny).fill(-1)
  const cellOf = new Int32Array(2 * nx * ny)
  const starts: number[] = []
  for (let l = 0; l < ny - 1; l++) {
    for (let k = 0; k < nx - 1; k++) {
      const c = l * nx + k
      const a = values[c],
        b = values[c + 1],
        cc = values[c + nx + 1],
        d = values[c + nx]
      const kase = (a > 0 ? 1 : 0) | (b > 0 ? 2 : 0) | (cc > 0 ? 4 : 0) | (d > 0 ? 8 : 0)
      if (kase === 0 || kase === 15) continue
      let segs = CASES[kase]
      if (kase === 5 || kase === 10) {
        // Sign of the bilinear field at its saddle point decides whether the two positive
        // corners are joined through the cell (asymptotic decider).
        const saddle = (a * cc - b * d) / (a + cc - b - d)
        if (kase === 5) segs = saddle > 0 ? SADDLE_5_JOINED : SADDLE_5_SEPARATE
        else segs = saddle > 0 ? SADDLE_10_JOINED : SADDLE_10_SEPARATE
      }
      for (let s = 0; s < segs.length; s += 2) {
        const from = edgeId(segs[s], k, l, nx)
        next[from] = edgeId(segs[s + 1], k, l, nx)
        cellOf[from] = c
        starts.push(from)
      }
    }
  }

  const edgeX = (e: number): number => {
    const c = e >> 1
    const k = c % nx
    if (e & 1) return ax.pos[k]
    return crossing(ax.pos[k], ax.pos[k + 1], values[c], values[c + 1])
  }
  const edgeY = (e: number): number => {
    const c = e >> 1
    const l = (c - (c % nx)) / nx
    if (e & 1) return crossing(ay.pos[l], ay.pos[l + 1], values[c], values[c + nx])
    return ay.pos[l]
  }

  const rings: Ring[] = []
  const chain = new Int32Array(starts.length)
  const curve: CellCurve = { cx: 0, cy: 0, kappa: 0 }
  for (const start of starts) {
    if (next[start] < 0) continue
    let m = 0
    for (let e = start; next[e] >= 0;) {
      chain[m++] = e
      const to = next[e]
      next[e] = -1
      e = to
    }
    if (minArea > 0) {
      // Chord polygon through the edge crossings, and how far the curve can move its area.
      let chord = 0,
        bulge = 0
      let px = edgeX(chain[m - 1]),
        py = edgeY(chain[m - 1])
      for (let k = 0; k < m; k++) {
        const qx = edgeX(chain[k]),
          qy = edgeY(chain[k])
        chord += px * qy - qx * py
        const from = chain[k === 0 ? m - 1 : k - 1]
        bulge += cellCurve(curve, cellOf[from], values, ax, ay, nx) ? segmentArea(curve, px, py, qx, qy) : 0
        px = qx
        py = qy
      }
      if (Math.abs(chord / 2) + 1.01 * bulge + 1e-9 < minArea) continue
    }
    const ring: Ring = []
    for (let k = 0; k < m; k++) {
      const e = chain[k],
        to = chain[k + 1 < m ? k + 1 : 0]
      const px = edgeX(e),
        py = edgeY(e)
      pushPoint(ring, px, py)
      if (cellCurve(curve, cellOf[e], values, ax, ay, nx)) subdivide(ring, curve, px, py, edgeX(to), edgeY(to), 0)
    }
    // Drop a closing duplicate of the first point.
    while (ring.length >= 4 && ring[0] === ring[ring.length - 2] && ring[1] === ring[ring.length - 1]) {
      ring.length -= 2
    }
    if (ring.length >= 6) rings.push(ring)
  }
  return rings
}

function edgeId(side: number, k: number, l: number, nx: number): number {
  switch (side) {
    case T:
      return 2 * (l * nx + k)
    case B:
      return 2 * ((l + 1) * nx + k)
    case L:
      return 2 * (l * nx + k) + 1
    default:
      return 2 * (l * nx + k + 1) + 1
  }
}

function pushPoint(ring: Ring, x: number, y: number): void {
  const n = ring.length
  if (n >= 2 && ring[n - 2] === x && ring[n - 1] === y) return
  ring.push(x, y)
}

// Inside a cell the 0-level of the bilinear field is a hyperbola arc, not the chord between
// the two edge crossings; on large upscales (16+ px per cell) the difference is visible, so
// points on the exact curve are inserted until every chord is within CURVE_TOLERANCE of it.
/** Fills `out` with the cell's curve and returns true, or false where the chord is exact. */
function cellCurve(out: CellCurve, cell: number, values: Float64Array, ax: Axis, ay: Axis, nx: number): boolean {
  const k = cell % nx
  const l = (cell - k) / nx
  const X0 = ax.pos[k],
    X1 = ax.pos[k + 1],
    Y0 = ay.pos[l],
    Y1 = ay.pos[l + 1]
  const cw = X1 - X0,
    ch = Y1 - Y0
  if (!(cw > 0 && ch > 0)) return false
  const a = values[cell],
    b = values[cell + 1],
    c = values[cell + nx + 1],
    d = values[cell + nx]
  if (!(Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c) && Number.isFinite(d))) return false
  const e = a - b + c - d
  // A (near-)planar cell has a straight 0-level: the chord is exact.
  if (Math.abs(e) <= 1e-9 * (Math.abs(a) + Math.abs(b) + Math.abs(c) + Math.abs(d))) return false
  // In pixels relative to the cell's corner: f = a + pX + qY + rXY, i.e. the hyperbola
  // (X - X*)(Y - Y*) = kappa with asymptotes X* = -q/r, Y* = -p/r.
  const p = (b - a) / cw,
    q = (d - a) / ch,
    r = e / (cw * ch)
  const kappa = (p * q - a * r) / (r * r)
  if (kappa === 0 || !Number.isFinite(kappa)) return false
  out.cx = X0 - q / r
  out.cy = Y0 - p / r
  out.kappa = kappa
  return true
}

/**
 * Area between the chord P-Q and the curve's arc between them: |integral of the curve minus
 * the chord over x|. Where P and Q are not on one branch (rounding at an asymptote) it falls
 * back to the chord's bounding box, which holds the arc of a monotone branch.
 */
function segmentArea(f: CellCurve, px: number, py: number, qx: number, qy: number): number {
  const box = Math.abs((qx - px) * (qy - py))
  const sp = px - f.cx,
    sq = qx - f.cx
  if (px === qx) return 0
  if (sp === 0 || sq === 0 || Math.sign(sp) !== Math.sign(sq)) return box
  const area = Math.abs(f.cy * (qx - px) + f.kappa * Math.log(sq / sp) - ((py + qy) / 2) * (qx - px))
  return Number.isFinite(area) ? Math.min(area, box) : box
}

/** A cell's 0-level: (x - cx)(y - cy) = kappa, in image pixels. */
interface CellCurve {
  cx: number
  cy: number
  kappa: number
}

// Split the chord P-Q at the curve point farthest from it (where the tangent is parallel to
// the chord: -kappa / s^2 = dy / dx for s = x - cx) while that point is more than
// CURVE_TOLERANCE away. Both ends lie on one branch, which is monotone and convex.
function subdivide(ring: Ring, f: CellCurve, px: number, py: number, qx: number, qy: number, depth: number): void {
  const dx = qx - px,
    dy = qy - py
  const len = Math.hypot(dx, dy)
  if (len < 2 * CURVE_TOLERANCE || depth >= MAX_CURVE_DEPTH || dx === 0 || dy === 0) return
  const t = (-f.kappa * dx) / dy
  if (!(t > 0)) return
  const sp = px - f.cx,
    sq = qx - f.cx
  if (sp === 0 || Math.sign(sp) !== Math.sign(sq)) return
  const s = Math.sign(sp) * Math.sqrt(t)
  if (!(s > Math.min(sp, sq) && s < Math.max(sp, sq))) return
  const mx = f.cx + s,
    my = f.cy + f.kappa / s
  const deviation = Math.abs(dx * (my - py) - dy * (mx - px)) / len
  if (deviation <= CURVE_TOLERANCE) return
  subdivide(ring, f, px, py, mx, my, depth + 1)
  pushPoint(ring, mx, my)
  subdivide(ring, f, mx, my, qx, qy, depth + 1)
}

interface RingInfo {
  raw: Ring
  area: number
  /** Index of the outer ring for a hole; -1 for an outer. */
  owner: number
  tolerance: number
  simplified: Ring
}

/**
 * The object's outline from one candidate's low-resolution logits: the sub-pixel 0-level set of
 * the upscaled field, split into parts with holes, specks dropped, each ring simplified with
 * Douglas–Peucker (high quality) at `tolerance` pixels, less where the area error would exceed
 * `maxAreaError`. Guarantees: every ring has >= 3
 * distinct points, lies inside [0, W] x [0, H], and no two ring edges cross (within a ring,
 * between a part's outer ring and its holes, or between parts); a ring whose simplification
 * would break that is simplified again with a smaller tolerance, down to none.
 * Cost follows the object's outline, never W * H.
 */
export function logitsToShape(
  logits: Float32Array,
  gridW: number,
  gridH: number,
  width: number,
  height: number,
  options: LogitsToShapeOptions = {},
): Shape {
  const tolerance = options.tolerance ?? 1
  const minArea = options.minArea ?? DEFAULT_MIN_AREA
  const maxAreaError = options.maxAreaError ?? DEFAULT_MAX_AREA_ERROR
  if (!(maxAreaError >= 0 && Number.isFinite(maxAreaError)))
    throw new RangeError(`maxAreaError must be >= 0, got ${maxAreaError}`)
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`)
  if (!(minArea >= 0 && Number.isFinite(minArea))) throw new RangeError(`minArea must be >= 0, got ${minArea}`)

  const raw = traceZeroLevel(logits, gridW, gridH, width, height, minArea)
  const outers: RingInfo[] = []
  const holes: RingInfo[] = []
  for (const ring of raw) {
    const area = ringArea(ring)
    if (Math.abs(area) < minArea || area === 0) continue
    const info: RingInfo = { raw: ring, area, owner: -1, tolerance, simplified: ring }
    if (area > 0) outers.push(info)
    else holes.push(info)
  }
  // Rings of one level set never cross, so a hole belongs to the smallest outer ring that
  // contains any of its points.
  outers.sort((p, q) => p.area - q.area)
  const candidates = outersByCell(outers, width, height)
  const keptHoles: RingInfo[] = []
  for (const hole of holes) {
    const hx = hole.raw[0],
      hy = hole.raw[1]
    for (const o of candidates.at(hx, hy)) {
      if (outers[o].area > -hole.area && candidates.contains(o, hx, hy)) {
        hole.owner = o
        keptHoles.push(hole)
        break
      }
    }
  }
  const netArea = outers.map((o) => o.area)
  for (const hole of keptHoles) netArea[hole.owner] += hole.area
  const keepOuter = netArea.map((a) => a >= minArea && a > 0)
  const rings: RingInfo[] = []
  const outerIndex = new Int32Array(outers.length).fill(-1)
  for (let o = 0; o < outers.length; o++) {
    if (keepOuter[o]) {
      outerIndex[o] = rings.length
      rings.push(outers[o])
    }
  }
  for (const hole of keptHoles) {
    if (keepOuter[hole.owner]) rings.push(hole)
  }

  simplifyAll(rings, width, height, maxAreaError)

  const parts: { part: OutlinePart; area: number }[] = []
  const partOf = new Map<RingInfo, OutlinePart>()
  for (let o = 0; o < outers.length; o++) {
    if (outerIndex[o] < 0) continue
    const part: OutlinePart = { outer: outers[o].simplified, holes: [] }
    partOf.set(outers[o], part)
    parts.push({ part, area: netArea[o] })
  }
  const sortedHoles = keptHoles.filter((h) => keepOuter[h.owner]).sort((p, q) => p.area - q.area)
  for (const hole of sortedHoles) partOf.get(outers[hole.owner])?.holes.push(hole.simplified)
  parts.sort((p, q) => q.area - p.area)
  return { parts: parts.map((p) => p.part) }
}

/**
 * Outer rings by the grid cells their bounding boxes cover, each cell's list in the rings'
 * order: the rings that may contain a point are looked up instead of tested one by one (a
 * fragmented mask has thousands of holes and thousands of outer rings; testing all pairs took
 * over a second).
 */
function outersByCell(outers: readonly RingInfo[], width: number, height: number) {
  const n = outers.length
  const box = new Float64Array(4 * n)
  for (let o = 0; o < n; o++) {
    const ring = outers[o].raw
    let x0 = Infinity,
      y0 = Infinity,
      x1 = -Infinity,
      y1 = -Infinity
    for (let i = 0; i < ring.length; i += 2) {
      if (ring[i] < x0) x0 = ring[i]
      if (ring[i] > x1) x1 = ring[i]
      if (ring[i + 1] < y0) y0 = ring[i + 1]
      if (ring[i + 1] > y1) y1 = ring[i + 1]
    }
    box.set([x0, y0, x1, y1], 4 * o)
  }
  const side = Math.max(1, Math.min(256, Math.ceil(Math.sqrt(n))))
  const cellW = Math.max(width, 1) / side,
    cellH = Math.max(height, 1) / side
  const col = (x: number) => Math.max(0, Math.min(side - 1, Math.floor(x / cellW)))
  const row = (y: number) => Math.max(0, Math.min(side - 1, Math.floor(y / cellH)))
  const cells: number[][] = Array.from({ length: side * side }, () => [])
  for (let o = 0; o < n; o++) {
    for (let r = row(box[4 * o + 1]); r <= row(box[4 * o + 3]); r++)
      for (let c = col(box[4 * o]); c <= col(box[4 * o + 2]); c++) cells[r * side + c].push(o)
  }
  const bands = new Map<number, EdgeBands>()
  return {
    at: (x: number, y: number): readonly number[] => cells[row(y) * side + col(x)],
    /** Whether outer ring `o` contains (x, y): bounding box first, then a ray over the edges near y. */
    contains(o: number, x: number, y: number): boolean {
      if (x < box[4 * o] || x > box[4 * o + 2] || y < box[4 * o + 1] || y > box[4 * o + 3]) return false
      const ring = outers[o].raw
      // A long ring (the big parts that many holes test against) gets its edges banded by y once.
      if (ring.length < 128) return ringContains(ring, x, y)
      let banded = bands.get(o)
      if (banded === undefined) bands.set(o, (banded = edgeBands(ring, box[4 * o + 1], box[4 * o + 3])))
      return bandedContains(ring, banded, x, y)
    },
  }
}

interface EdgeBands {
  y0: number
  height: number
  /** Per band, the first vertex index of each edge that spans into it (CSR). */
  start: Int32Array
  edges: Int32Array
}

const BAND_EDGES = 8

function edgeBands(ring: Ring, y0: number, y1: number): EdgeBands {
  const n = ring.length >> 1
  const count = Math.max(1, Math.ceil(n / BAND_EDGES))
  const height = Math.max((y1 - y0) / count, 1e-9)
  const band = (y: number) => Math.max(0, Math.min(count - 1, Math.floor((y - y0) / height)))
  const start = new Int32Array(count + 1)
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = band(ring[2 * i + 1]),
      b = band(ring[2 * j + 1])
    for (let k = Math.min(a, b); k <= Math.max(a, b); k++) start[k + 1]++
  }
  for (let k = 1; k <= count; k++) start[k] += start[k - 1]
  const fill = start.slice(0, count)
  const edges = new Int32Array(start[count])
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = band(ring[2 * i + 1]),
      b = band(ring[2 * j + 1])
    for (let k = Math.min(a, b); k <= Math.max(a, b); k++) edges[fill[k]++] = i
  }
  return { y0, height, start, edges }
}

/** ringContains, reading only the edges of the band (x, y) falls in. */
function bandedContains(ring: Ring, bands: EdgeBands, x: number, y: number): boolean {
  const count = bands.start.length - 1
  const k = Math.max(0, Math.min(count - 1, Math.floor((y - bands.y0) / bands.height)))
  const n = ring.length >> 1
  let inside = false
  for (let e = bands.start[k]; e < bands.start[k + 1]; e++) {
    const i = bands.edges[e]
    const j = i === 0 ? n - 1 : i - 1
    const xi = ring[2 * i],
      yi = ring[2 * i + 1],
      xj = ring[2 * j],
      yj = ring[2 * j + 1]
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

/**
 * Douglas–Peucker on a closed ring. The ring is split at two mutually distant vertices (likely
 * corners) that are always kept: DP keeps its end points, and an arbitrary start vertex in the
 * middle of a side would otherwise cost a corner. Returns the kept vertices' indices, in ring
 * order from the first split vertex.
 *
 * Written on the flat ring (the same decisions as simplify-js's high-quality mode): a
 * fragmented mask has 10^5 vertices, simplified several times each while the area budget or a
 * crossing asks for a smaller tolerance, and a point object per vertex per attempt made the
 * garbage collector the largest cost of the whole step.
 */
function simplifyIndices(ring: Ring, tolerance: number): number[] {
  const n = ring.length >> 1
  if (tolerance <= 0 || n <= 3) return Array.from({ length: n }, (_, i) => i)
  const i1 = farthestVertex(ring, 0)
  const i2 = farthestVertex(ring, i1)
  const a = Math.min(i1, i2),
    b = Math.max(i1, i2)
  if (a === b) return Array.from({ length: n }, (_, i) => i)
  const keep = new Uint8Array(n)
  keep[a] = 1
  keep[b] = 1
  const sqTolerance = tolerance * tolerance
  douglasPeucker(ring, n, a, b, sqTolerance, keep)
  douglasPeucker(ring, n, b, a + n, sqTolerance, keep)
  const kept: number[] = []
  for (let k = a; k < a + n; k++) if (keep[k % n]) kept.push(k % n)
  return kept
}

function farthestVertex(ring: Ring, from: number): number {
  let best = from,
    bestD = -1
  const fx = ring[2 * from],
    fy = ring[2 * from + 1]
  for (let i = 0; i < ring.length; i += 2) {
    const d = (ring[i] - fx) ** 2 + (ring[i + 1] - fy) ** 2
    if (d > bestD) {
      bestD = d
      best = i >> 1
    }
  }
  return best
}

/** Marks in `keep` the vertices DP keeps strictly between `first` and `last` (indices taken mod n). */
function douglasPeucker(ring: Ring, n: number, first: number, last: number, sqTolerance: number, keep: Uint8Array) {
  const stack = [first, last]
  while (stack.length > 0) {
    const l = stack.pop() as number
    const f = stack.pop() as number
    if (l - f < 2) continue
    const ax = ring[2 * (f % n)],
      ay = ring[2 * (f % n) + 1]
    const bx = ring[2 * (l % n)],
      by = ring[2 * (l % n) + 1]
    const dx = bx - ax,
      dy = by - ay
    const len2 = dx * dx + dy * dy
    let maxSq = sqTolerance,
      index = -1
    for (let i = f + 1; i < l; i++) {
      const m = i % n
      let px = ax,
        py = ay
      if (len2 !== 0) {
        const t = ((ring[2 * m] - ax) * dx + (ring[2 * m + 1] - ay) * dy) / len2
        if (t > 1) {
          px = bx
          py = by
        } else if (t > 0) {
          px += dx * t
          py += dy * t
        }
      }
      const ex = ring[2 * m] - px,
        ey = ring[2 * m + 1] - py
      const d = ex * ex + ey * ey
      if (d > maxSq) {
        maxSq = d
        index = i
      }
    }
    if (index < 0) continue
    keep[index % n] = 1
    stack.push(f, index, index, l)
  }
}

/**
 * Area between the simplified ring and the traced one: for each kept chord, the area enclosed
 * by the chord and the traced vertices it replaces. DP chords sit inside convex arcs and
 * outside concave ones, so this is (close to) the symmetric difference the simplification costs.
 */
function simplificationError(ring: Ring, kept: number[]): number {
  const n = ring.length >> 1
  let total = 0
  for (let k = 0; k < kept.length; k++) {
    const from = kept[k]
    const to = kept[(k + 1) % kept.length]
    const steps = (to - from + n) % n
    if (steps <= 1) continue
    let s = 0
    let px = ring[2 * from],
      py = ring[2 * from + 1]
    for (let t = 1; t <= steps; t++) {
      const i = (from + t) % n
      const x = ring[2 * i],
        y = ring[2 * i + 1]
      s += px * y - x * py
      px = x
      py = y
    }
    s += px * ring[2 * from + 1] - ring[2 * from] * py
    total += Math.abs(s) / 2
  }
  return total
}

function simplifyRing(
  ring: Ring,
  tolerance: number,
  width: number,
  height: number,
): { ring: Ring; error: number } | null {
  const kept = simplifyIndices(ring, tolerance)
  const out: Ring = []
  for (const i of kept) {
    out.push(Math.min(Math.max(ring[2 * i], 0), width), Math.min(Math.max(ring[2 * i + 1], 0), height))
  }
  if (out.length < 6) return null
  return { ring: out, error: kept.length === ring.length >> 1 ? 0 : simplificationError(ring, kept) }
}

// Simplify every ring, then look for crossing edges among all of them; the rings involved are
// simplified again with half the tolerance (then none), until nothing crosses.
function simplifyAll(rings: RingInfo[], width: number, height: number, maxAreaError: number): void {
  for (const r of rings) r.simplified = simplifyValid(r, width, height, maxAreaError)
  for (let round = 0; round < 40; round++) {
    const bad = crossingRings(rings.map((r) => r.simplified))
    let changed = false
    for (const i of bad) {
      const r = rings[i]
      if (r.tolerance === 0) continue
      r.tolerance = r.tolerance > 0.05 ? r.tolerance / 2 : 0
      r.simplified = simplifyValid(r, width, height, maxAreaError)
      changed = true
    }
    if (!changed) return
  }
}

/**
 * Simplified ring that keeps >= 3 points, the traced ring's orientation, and an area error
 * within `maxAreaError` of the ring's area (so small objects keep the detail they need).
 */
function simplifyValid(r: RingInfo, width: number, height: number, maxAreaError: number): Ring {
  const budget = maxAreaError * Math.abs(r.area)
  for (;;) {
    const s = simplifyRing(r.raw, r.tolerance, width, height)
    if (s !== null && Math.sign(ringArea(s.ring)) === Math.sign(r.area) && s.error <= budget) return s.ring
    if (r.tolerance === 0) return s?.ring ?? r.raw.slice()
    r.tolerance = r.tolerance > 0.05 ? r.tolerance / 2 : 0
  }
}

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const v = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
  return v > 0 ? 1 : v < 0 ? -1 : 0
}

function onSegment(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): boolean {
  return Math.min(ax, bx) <= cx && cx <= Math.max(ax, bx) && Math.min(ay, by) <= cy && cy <= Math.max(ay, by)
}

/** Whether closed segments AB and CD share any point. */
export function segmentsIntersect(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
  dx: number,
  dy: number,
): boolean {
  const o1 = orient(ax, ay, bx, by, cx, cy)
  const o2 = orient(ax, ay, bx, by, dx, dy)
  const o3 = orient(cx, cy, dx, dy, ax, ay)
  const o4 = orient(cx, cy, dx, dy, bx, by)
  if (o1 !== o2 && o3 !== o4) return true
  if (o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) return true
  if (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy)) return true
  if (o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay)) return true
  if (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by)) return true
  return false
}

/**
 * Indices of rings with an edge that touches or crosses another edge (of the same ring, other
 * than its neighbours at their shared vertex, or of another ring). Edges are bucketed in a
 * uniform grid over their bounding boxes and only edges sharing a cell are compared, each pair
 * once (in the first cell both cover): a fragmented mask has 10^5 edges, and a sweep over x
 * alone compared every edge with every other in its column band (1.7 s for one 4000x3000 mask).
 */
export function crossingRings(rings: Ring[]): Set<number> {
  let total = 0
  for (const r of rings) total += r.length >> 1
  const bad = new Set<number>()
  if (total === 0) return bad
  const segRing = new Int32Array(total)
  const segIndex = new Int32Array(total)
  const box = new Float64Array(4 * total)
  let loX = Infinity,
    loY = Infinity,
    hiX = -Infinity,
    hiY = -Infinity
  let s = 0
  for (let ri = 0; ri < rings.length; ri++) {
    const r = rings[ri]
    const n = r.length >> 1
    for (let i = 0; i < n; i++) {
      const j = (i + 1) % n
      segRing[s] = ri
      segIndex[s] = i
      const x0 = Math.min(r[2 * i], r[2 * j]),
        x1 = Math.max(r[2 * i], r[2 * j])
      const y0 = Math.min(r[2 * i + 1], r[2 * j + 1]),
        y1 = Math.max(r[2 * i + 1], r[2 * j + 1])
      box[4 * s] = x0
      box[4 * s + 1] = y0
      box[4 * s + 2] = x1
      box[4 * s + 3] = y1
      if (x0 < loX) loX = x0
      if (y0 < loY) loY = y0
      if (x1 > hiX) hiX = x1
      if (y1 > hiY) hiY = y1
      s++
    }
  }
  // About two edges per cell on average, at most 2048 cells a side.
  const side = Math.max(1, Math.min(2048, Math.ceil(Math.sqrt(total / 2))))
  const cellW = Math.max((hiX - loX) / side, 1e-9),
    cellH = Math.max((hiY - loY) / side, 1e-9)
  const cellX = (x: number) => Math.min(side - 1, Math.floor((x - loX) / cellW))
  const cellY = (y: number) => Math.min(side - 1, Math.floor((y - loY) / cellH))
  const range = new Int32Array(4 * total)
  const counts = new Int32Array(side * side + 1)
  for (let k = 0; k < total; k++) {
    const cx0 = cellX(box[4 * k]),
      cy0 = cellY(box[4 * k + 1]),
      cx1 = cellX(box[4 * k + 2]),
      cy1 = cellY(box[4 * k + 3])
    range[4 * k] = cx0
    range[4 * k + 1] = cy0
    range[4 * k + 2] = cx1
    range[4 * k + 3] = cy1
    for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) counts[cy * side + cx + 1]++
  }
  for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1]
  const fill = counts.slice(0, side * side)
  const members = new Int32Array(counts[side * side])
  for (let k = 0; k < total; k++) {
    for (let cy = range[4 * k + 1]; cy <= range[4 * k + 3]; cy++)
      for (let cx = range[4 * k]; cx <= range[4 * k + 2]; cx++) members[fill[cy * side + cx]++] = k
  }
  for (let cell = 0; cell < side * side; cell++) {
    const from = counts[cell],
      to = counts[cell + 1]
    if (to - from < 2) continue
    const cx = cell % side,
      cy = (cell - cx) / side
    for (let a = from; a < to; a++) {
      const p = members[a]
      for (let b = a + 1; b < to; b++) {
        const q = members[b]
        // Compared once: in the first cell both edges cover.
        if (Math.max(range[4 * p], range[4 * q]) !== cx || Math.max(range[4 * p + 1], range[4 * q + 1]) !== cy) continue
        if (
          box[4 * p + 2] < box[4 * q] ||
          box[4 * q + 2] < box[4 * p] ||
          box[4 * p + 3] < box[4 * q + 1] ||
          box[4 * q + 3] < box[4 * p + 1]
        )
          continue
        if (edgesConflict(rings, segRing, segIndex, p, q)) {
          bad.add(segRing[p])
          bad.add(segRing[q])
        }
      }
    }
  }
  return bad
}

/** Whether edges p and q (of crossingRings' tables) touch where they must not. */
function edgesConflict(rings: Ring[], segRing: Int32Array, segIndex: Int32Array, p: number, q: number): boolean {
  const rp = rings[segRing[p]]
  const np = rp.length >> 1
  const ip = segIndex[p],
    jp = (ip + 1) % np
  const ax = rp[2 * ip],
    ay = rp[2 * ip + 1],
    bx = rp[2 * jp],
    by = rp[2 * jp + 1]
  const rq = rings[segRing[q]]
  const nq = rq.length >> 1
  const iq = segIndex[q],
    jq = (iq + 1) % nq
  const cx = rq[2 * iq],
    cy = rq[2 * iq + 1],
    dx = rq[2 * jq],
    dy = rq[2 * jq + 1]
  if (segRing[p] === segRing[q] && (jp === iq || jq === ip)) {
    // Neighbours share a vertex; they are only wrong if they fold back onto each other.
    const shared = jp === iq ? [bx, by] : [ax, ay]
    const other1 = jp === iq ? [ax, ay] : [bx, by]
    const other2 = jp === iq ? [dx, dy] : [cx, cy]
    return (
      orient(shared[0], shared[1], other1[0], other1[1], other2[0], other2[1]) === 0 &&
      (other1[0] - shared[0]) * (other2[0] - shared[0]) + (other1[1] - shared[1]) * (other2[1] - shared[1]) > 0
    )
  }
  return segmentsIntersect(ax, ay, bx, by, cx, cy, dx, dy)
}
