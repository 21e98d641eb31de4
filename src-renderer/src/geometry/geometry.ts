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
  rings: readonly (readonly number[])[]
  bbox: readonly [number, number, number, number]
  /** For masks without editable rings (RLE): whether a point is inside its outline; absent: the bbox decides. */
  contains?: (p: Vec) => boolean
}

/**
 * What is hit-tested of a saved annotation: its outline, as main computed it. A polygon's rings
 * are its outline and can be edited vertex by vertex; a mask with holes (RLE) is hit by its
 * outline (even-odd, holes outside) and has no editable rings.
 */
export function hitTargetOf(annotation: Pick<Annotation, 'id' | 'segmentation' | 'outline' | 'bbox'>): HitTarget {
  const rings = annotation.outline.flatMap((part) => [part.outer, ...part.holes])
  if (Array.isArray(annotation.segmentation)) return { id: annotation.id, rings, bbox: annotation.bbox }
  return { id: annotation.id, rings: [], bbox: annotation.bbox, contains: (p) => pointInRings(rings, p) }
}

export type Hit =
  | { kind: 'vertex'; id: number; ring: number; vertex: number }
  | { kind: 'edge'; id: number; ring: number; /** The new vertex goes after this one. */ after: number; at: Vec }
  | { kind: 'body'; id: number }

/**
 * What is under `p` (image pixels). `tolerance` is in image pixels (the caller divides its
 * screen tolerance by the zoom). Vertices and edges are tested only on `editable` (the
 * selection); bodies on every target, topmost (last) first.
 */
export function hitTest(targets: readonly HitTarget[], p: Vec, tolerance: number, editable: number | null): Hit | null {
  const selected = editable === null ? undefined : targets.find((t) => t.id === editable)
  if (selected !== undefined) {
    let best: { ring: number; vertex: number; distance: number } | null = null
    selected.rings.forEach((ring, r) => {
      for (let i = 0; i < ring.length; i += 2) {
        const distance = Math.hypot(ring[i] - p.x, ring[i + 1] - p.y)
        if (distance <= tolerance && (best === null || distance < best.distance))
          best = { ring: r, vertex: i / 2, distance }
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
  for (let k = targets.length - 1; k >= 0; k--) {
    const target = targets[k]
    const [bx, by, bw, bh] = target.bbox
    if (p.x < bx - tolerance || p.y < by - tolerance || p.x > bx + bw + tolerance || p.y > by + bh + tolerance) continue
    const inside = target.rings.length > 0 ? pointInRings(target.rings, p) : (target.contains?.(p) ?? true)
    if (inside) return { kind: 'body', id: target.id }
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
