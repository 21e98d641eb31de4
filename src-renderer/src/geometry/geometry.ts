// Pure geometry of the canvas: the camera (image pixels ↔ screen pixels, zoom at a point, fit),
// hit-testing targets from the outline main sends with every annotation, and hit-testing of saved annotations in the order an editor
// needs (vertex before edge before body). No DOM, no Konva: unit tests drive every function.
import type { Annotation } from '../../../src-preload/contract/annotations.ts'

export interface Vec {
  x: number
  y: number
}

/** Stage transform: screen = image * scale + offset. */
export interface Camera {
  scale: number
  x: number
  y: number
}

export const MIN_SCALE = 0.01
export const MAX_SCALE = 64

export function toImage(camera: Camera, screen: Vec): Vec {
  return { x: (screen.x - camera.x) / camera.scale, y: (screen.y - camera.y) / camera.scale }
}

export function toScreen(camera: Camera, image: Vec): Vec {
  return { x: image.x * camera.scale + camera.x, y: image.y * camera.scale + camera.y }
}

/** Zooms by `factor` keeping the image pixel under `screen` where it is. */
export function zoomAt(camera: Camera, screen: Vec, factor: number): Camera {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, camera.scale * factor))
  const anchor = toImage(camera, screen)
  return { scale, x: screen.x - anchor.x * scale, y: screen.y - anchor.y * scale }
}

/** The whole image centred in the view, with a small margin. */
export function fitCamera(
  image: { width: number; height: number },
  view: { width: number; height: number },
  margin = 16,
): Camera {
  const availableW = Math.max(1, view.width - 2 * margin)
  const availableH = Math.max(1, view.height - 2 * margin)
  const scale = Math.min(availableW / image.width, availableH / image.height)
  return { scale, x: (view.width - image.width * scale) / 2, y: (view.height - image.height * scale) / 2 }
}

/** 1:1 (one image pixel per screen pixel), centred on what is at the view's centre now. */
export function actualSizeCamera(camera: Camera, view: { width: number; height: number }): Camera {
  return zoomAt(camera, { x: view.width / 2, y: view.height / 2 }, 1 / camera.scale)
}

/** Even-odd test over all rings, so holes (rings inside rings) are outside. */
export function pointInRings(rings: readonly (readonly number[])[], p: Vec): boolean {
  let inside = false
  for (const ring of rings) {
    const n = ring.length / 2
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = ring[2 * i]
      const yi = ring[2 * i + 1]
      const xj = ring[2 * j]
      const yj = ring[2 * j + 1]
      if (yi > p.y !== yj > p.y && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside
    }
  }
  return inside
}

/** Distance from p to the segment a–b, and where along it (0..1) the closest point lies. */
export function distanceToSegment(p: Vec, a: Vec, b: Vec): { distance: number; t: number } {
  const dx = b.x - a.x
  const dy = b.y - a.y
  const lengthSq = dx * dx + dy * dy
  const t = lengthSq === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSq))
  return { distance: Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy)), t }
}

/** Shoelace area of one flat ring (absolute). */
export function ringArea(ring: readonly number[]): number {
  let sum = 0
  const n = ring.length / 2
  for (let i = 0, j = n - 1; i < n; j = i++) sum += ring[2 * j] * ring[2 * i + 1] - ring[2 * i] * ring[2 * j + 1]
  return Math.abs(sum) / 2
}

export interface HitTarget {
  id: number
  /** Every ring of the outline (outer rings and holes): even-odd, so holes are outside. */
  rings: readonly (readonly number[])[]
  bbox: readonly [number, number, number, number]
  /**
   * Whether its vertices may be moved (default true). False for a mask with holes: main stores
   * edited rings as a polygon, which has no holes, so an edit would fill them.
   */
  editable?: boolean
}

/**
 * What is hit-tested of a saved annotation: its outline, as main computed it. A polygon's outline
 * is its rings; a mask without holes (RLE) is edited through its outline's rings, which it then
 * becomes; a mask with holes is hit by its outline (holes outside) but cannot be edited by vertex.
 */
export function hitTargetOf(annotation: Pick<Annotation, 'id' | 'segmentation' | 'outline' | 'bbox'>): HitTarget {
  const rings = annotation.outline.flatMap((part) => [part.outer, ...part.holes])
  const editable = annotation.outline.every((part) => part.holes.length === 0)
  return { id: annotation.id, rings, bbox: annotation.bbox, editable }
}

/**
 * A uniform grid over the targets' bounding boxes: a point or a rectangle finds the few targets
 * whose box may contain it, instead of testing every one (10,000 saved polygons on one image).
 */
export class SpatialGrid {
  private readonly cells = new Map<number, number[]>()
  private readonly cell: number
  private static readonly COLUMNS = 1 << 16

  constructor(
    private readonly boxes: readonly (readonly [number, number, number, number])[],
    cell?: number,
  ) {
    let area = 0
    for (const [, , w, h] of boxes) area += Math.max(1, w) * Math.max(1, h)
    // About one box per cell on average: boxes span a few cells, a cell holds a few boxes.
    this.cell = cell ?? Math.max(8, Math.sqrt(boxes.length === 0 ? 1 : area / boxes.length))
    boxes.forEach((box, index) => {
      this.forCells(box[0], box[1], box[0] + box[2], box[1] + box[3], (key) => {
        const list = this.cells.get(key)
        if (list === undefined) this.cells.set(key, [index])
        else list.push(index)
      })
    })
  }

  private forCells(x0: number, y0: number, x1: number, y1: number, visit: (key: number) => void): void {
    const c0 = Math.floor(x0 / this.cell)
    const c1 = Math.floor(x1 / this.cell)
    const r0 = Math.floor(y0 / this.cell)
    const r1 = Math.floor(y1 / this.cell)
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) visit(r * SpatialGrid.COLUMNS + c)
  }

  /** Indices of the boxes meeting the rectangle (grown by `margin`), ascending. */
  query(x0: number, y0: number, x1: number, y1: number, margin = 0): number[] {
    const found = new Set<number>()
    const cells =
      (Math.floor((x1 + margin) / this.cell) - Math.floor((x0 - margin) / this.cell) + 1) *
      (Math.floor((y1 + margin) / this.cell) - Math.floor((y0 - margin) / this.cell) + 1)
    // A view over most of the image: scanning the boxes beats visiting every cell.
    if (cells > this.boxes.length) {
      const result: number[] = []
      this.boxes.forEach(([bx, by, bw, bh], index) => {
        if (bx <= x1 + margin && by <= y1 + margin && bx + bw >= x0 - margin && by + bh >= y0 - margin)
          result.push(index)
      })
      return result
    }
    this.forCells(x0 - margin, y0 - margin, x1 + margin, y1 + margin, (key) => {
      for (const index of this.cells.get(key) ?? []) {
        const [bx, by, bw, bh] = this.boxes[index]
        if (bx <= x1 + margin && by <= y1 + margin && bx + bw >= x0 - margin && by + bh >= y0 - margin) found.add(index)
      }
    })
    return [...found].sort((a, b) => a - b)
  }
}

/**
 * Which vertices of `rings` get a handle at this zoom: greedily in ring order, a vertex is shown
 * only when it is at least `minScreen` screen pixels from every handle shown before it, so
 * handles never overlap; zoomed in far enough, every vertex has one. Returns per ring the shown
 * vertex indices.
 */
export function thinHandles(rings: readonly (readonly number[])[], scale: number, minScreen: number): number[][] {
  const cell = minScreen / scale
  const taken = new Map<string, Vec[]>()
  const minSq = cell * cell
  return rings.map((ring) => {
    const shown: number[] = []
    for (let i = 0; i < ring.length; i += 2) {
      const x = ring[i]
      const y = ring[i + 1]
      const cx = Math.floor(x / cell)
      const cy = Math.floor(y / cell)
      let clear = true
      for (let dy = -1; dy <= 1 && clear; dy++) {
        for (let dx = -1; dx <= 1 && clear; dx++) {
          for (const q of taken.get(`${cx + dx},${cy + dy}`) ?? []) {
            if ((q.x - x) * (q.x - x) + (q.y - y) * (q.y - y) < minSq) {
              clear = false
              break
            }
          }
        }
      }
      if (!clear) continue
      shown.push(i / 2)
      const key = `${cx},${cy}`
      const list = taken.get(key)
      if (list === undefined) taken.set(key, [{ x, y }])
      else list.push({ x, y })
    }
    return shown
  })
}

export type Hit =
  | { kind: 'vertex'; id: number; ring: number; vertex: number }
  | { kind: 'edge'; id: number; ring: number; /** The new vertex goes after this one. */ after: number; at: Vec }
  | { kind: 'body'; id: number }

export interface HitOptions {
  /** Candidates for a body hit (indices into targets, ascending); default: every target. */
  index?: SpatialGrid
  /** The selection's vertices that show a handle (thinHandles); default: every vertex. */
  handles?: readonly (readonly number[])[]
}

/**
 * What is under `p` (image pixels). `tolerance` is in image pixels (the caller divides its
 * screen tolerance by the zoom). Vertices and edges are tested only on `editable` (the
 * selection), vertices only where a handle is shown; bodies on every target, topmost (last) first.
 */
export function hitTest(
  targets: readonly HitTarget[],
  p: Vec,
  tolerance: number,
  editable: number | null,
  options: HitOptions = {},
): Hit | null {
  const selected = editable === null ? undefined : targets.find((t) => t.id === editable)
  if (selected !== undefined) {
    let best: { ring: number; vertex: number; distance: number } | null = null
    selected.rings.forEach((ring, r) => {
      const vertices = options.handles?.[r] ?? Array.from({ length: ring.length / 2 }, (_, v) => v)
      for (const v of vertices) {
        const distance = Math.hypot(ring[2 * v] - p.x, ring[2 * v + 1] - p.y)
        if (distance <= tolerance && (best === null || distance < best.distance))
          best = { ring: r, vertex: v, distance }
      }
    })
    if (best !== null) {
      const { ring, vertex } = best
      return { kind: 'vertex', id: selected.id, ring, vertex }
    }
    for (let r = 0; r < selected.rings.length; r++) {
      const ring = selected.rings[r]
      const n = ring.length / 2
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n
        const a = { x: ring[2 * i], y: ring[2 * i + 1] }
        const b = { x: ring[2 * j], y: ring[2 * j + 1] }
        const { distance, t } = distanceToSegment(p, a, b)
        if (distance <= tolerance)
          return {
            kind: 'edge',
            id: selected.id,
            ring: r,
            after: i,
            at: { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) },
          }
      }
    }
  }
  const candidates = options.index?.query(p.x, p.y, p.x, p.y, tolerance)
  const count = candidates?.length ?? targets.length
  for (let k = count - 1; k >= 0; k--) {
    const target = targets[candidates === undefined ? k : candidates[k]]
    const [bx, by, bw, bh] = target.bbox
    if (p.x < bx - tolerance || p.y < by - tolerance || p.x > bx + bw + tolerance || p.y > by + bh + tolerance) continue
    if (pointInRings(target.rings, p)) return { kind: 'body', id: target.id }
  }
  return null
}

/** A copy of `rings` with one vertex moved. */
export function moveVertex(rings: readonly (readonly number[])[], ring: number, vertex: number, to: Vec): number[][] {
  return rings.map((values, r) => {
    const copy = [...values]
    if (r === ring) {
      copy[2 * vertex] = to.x
      copy[2 * vertex + 1] = to.y
    }
    return copy
  })
}

/** A copy with a vertex inserted after `after`. */
export function insertVertex(rings: readonly (readonly number[])[], ring: number, after: number, at: Vec): number[][] {
  return rings.map((values, r) =>
    r === ring ? [...values.slice(0, 2 * after + 2), at.x, at.y, ...values.slice(2 * after + 2)] : [...values],
  )
}

/** A copy without one vertex; null when the ring would drop below a triangle. */
export function removeVertex(rings: readonly (readonly number[])[], ring: number, vertex: number): number[][] | null {
  if (rings[ring].length <= 6) return null
  return rings.map((values, r) =>
    r === ring ? [...values.slice(0, 2 * vertex), ...values.slice(2 * vertex + 2)] : [...values],
  )
}

/** Index of the prompt point within `radius` of p, nearest first; -1 when none. */
export function pointNear(points: readonly Vec[], p: Vec, radius: number): number {
  let found = -1
  let best = radius
  points.forEach((point, index) => {
    const d = Math.hypot(point.x - p.x, point.y - p.y)
    if (d <= best) {
      best = d
      found = index
    }
  })
  return found
}

/** Box from two corners, ordered. */
export function boxFrom(a: Vec, b: Vec): { x0: number; y0: number; x1: number; y1: number } {
  return { x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) }
}
