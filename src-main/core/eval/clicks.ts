// The standard click simulator of interactive segmentation (Xu et al. 2016; as evaluated by
// RITM, SimpleClick and the SAM papers, NoC@85/NoC@90): the next click goes where the current
// mask is most wrong.
//
// - First click: the interior point of the object farthest from its boundary.
// - Each next click: the false-negative pixels (object, not in the mask) and the false-positive
//   pixels (mask, not the object) are two error regions; the one whose farthest-from-boundary
//   point lies deeper is "the largest error region" (the measure of RITM's simulator, which
//   compares exactly these two distances), and the click goes to that point: positive for a
//   missed part, negative for a false one. On equal depth the click is negative, as in RITM
//   (`is_positive = fn_max_dist > fp_max_dist`).
// - Distances are exact Euclidean (distance.ts); the image border counts as boundary; ties
//   between pixels go to the first in row-major order.
// All of it works on a window of the image (region.ts Region) that holds both masks: outside a
// window both masks are empty, so distances and IoU are those of the whole image.

import type { Region } from '../segment/region.ts'
import { farthestInside } from './distance.ts'

/** A mask over a window of the image: `mask` is row-major over the window, zero outside it. */
export interface WindowMask {
  window: Region
  mask: Uint8Array
}

/** A simulated click on a pixel (x, y: whole image pixels; the prompt point is its centre). */
export interface Click {
  x: number
  y: number
  positive: boolean
}

export const EMPTY_WINDOW: Region = { x0: 0, y0: 0, x1: 0, y1: 0 }

function isEmpty(r: Region): boolean {
  return r.x1 <= r.x0 || r.y1 <= r.y0
}

/** The smallest window holding both. */
export function unionWindow(a: Region, b: Region): Region {
  if (isEmpty(a)) return b
  if (isEmpty(b)) return a
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) }
}

/** The mask copied into a window that contains its own. */
export function placeIn(m: WindowMask, window: Region): Uint8Array {
  const w = window.x1 - window.x0
  const out = new Uint8Array(w * (window.y1 - window.y0))
  const mw = m.window.x1 - m.window.x0
  if (mw <= 0) return out
  for (let y = m.window.y0; y < m.window.y1; y++) {
    const from = (y - m.window.y0) * mw
    out.set(m.mask.subarray(from, from + mw), (y - window.y0) * w + (m.window.x0 - window.x0))
  }
  return out
}

/** Intersection over union of two masks of one window (1 when both are empty). */
export function maskIou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0,
    union = 0
  for (let i = 0; i < a.length; i++) {
    const p = a[i] !== 0,
      q = b[i] !== 0
    if (p && q) inter++
    if (p || q) union++
  }
  return union === 0 ? 1 : inter / union
}

/**
 * The next click for `truth` given the current prediction (null before the first click), both
 * on the same window of width x height pixels; null when the prediction is exact.
 */
export function nextClick(
  truth: Uint8Array,
  predicted: Uint8Array | null,
  width: number,
  height: number,
): Click | null {
  const n = width * height
  const missed = new Uint8Array(n)
  const extra = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const t = truth[i] !== 0,
      p = predicted !== null && predicted[i] !== 0
    if (t && !p) missed[i] = 1
    else if (p && !t) extra[i] = 1
  }
  const fn = farthestInside(missed, width, height)
  const fp = farthestInside(extra, width, height)
  if (fn.distance === 0 && fp.distance === 0) return null
  return fn.distance > fp.distance ? { x: fn.x, y: fn.y, positive: true } : { x: fp.x, y: fp.y, positive: false }
}

export interface ClickRun {
  /** IoU after each click, 1..maxClicks (an exact mask's IoU is carried to the end). */
  ious: number[]
  clicks: Click[]
  /** Milliseconds each prediction took (the model's part, when the predictor says so). */
  ms: number[]
}

/**
 * Runs the simulator on one object: `predict` turns all clicks so far (image pixels) into the
 * predicted mask (it keeps its own state between calls, e.g. the previous mask fed back).
 */
export async function simulateClicks(
  truth: WindowMask,
  predict: (clicks: readonly Click[]) => Promise<WindowMask & { ms?: number }>,
  maxClicks: number,
): Promise<ClickRun> {
  const ious: number[] = []
  const clicks: Click[] = []
  const ms: number[] = []
  let predicted: WindowMask | null = null
  for (let k = 0; k < maxClicks; k++) {
    const window = predicted ? unionWindow(truth.window, predicted.window) : truth.window
    const w = window.x1 - window.x0,
      h = window.y1 - window.y0
    const t = placeIn(truth, window)
    const click = nextClick(t, predicted ? placeIn(predicted, window) : null, w, h)
    if (!click) {
      // Exact: nothing left to click; the IoU stays.
      while (ious.length < maxClicks) ious.push(ious.at(-1) ?? 1)
      break
    }
    clicks.push({ x: click.x + window.x0, y: click.y + window.y0, positive: click.positive })
    const t0 = performance.now()
    const answer = await predict(clicks)
    ms.push(answer.ms ?? performance.now() - t0)
    predicted = answer
    const both = unionWindow(truth.window, predicted.window)
    ious.push(maskIou(placeIn(truth, both), placeIn(predicted, both)))
  }
  return { ious, clicks, ms }
}
