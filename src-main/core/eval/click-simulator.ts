// The standard interactive-segmentation click simulator (as in the RITM, SimpleClick and SAM
// papers), on masks at image resolution (row-major, 1 = inside):
// - the first click is positive, at the object's interior point farthest from its boundary;
// - each next click goes into the largest error region (by pixel count; a missed part gives a
//   positive click, a false one a negative click), at its point farthest from the region's
//   boundary.
// "Farthest from the boundary" is the exact Euclidean distance to the nearest pixel outside the
// region, the image border counting as outside. Ties go to the first pixel in row-major order
// (smallest y, then smallest x); so do ties between error regions of equal size, after the
// missed (positive) one. Clicks are at pixel centres (x + 0.5, y + 0.5), COCO's frame.

export interface SimulatedClick {
  x: number
  y: number
  label: 0 | 1
}

const INF = 1e20

/** Felzenszwalb–Huttenlocher: exact squared distances of a 1-D sampled function, in place. */
function distance1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0
  v[0] = 0
  z[0] = -INF
  z[1] = INF
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k])
    while (s <= z[k]) {
      k--
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k])
    }
    k++
    v[k] = q
    z[k] = s
    z[k + 1] = INF
  }
  k = 0
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++
    d[q] = (q - v[k]) * (q - v[k]) + f[v[k]]
  }
}

/**
 * Squared Euclidean distance of every pixel to the nearest pixel where `inside` is 0, with the
 * image surrounded by outside pixels (so a region touching the border is 1 from it there).
 */
export function squaredDistanceToOutside(inside: Uint8Array, width: number, height: number): Float64Array {
  // Padded by one pixel of outside on every side.
  const w = width + 2,
    h = height + 2
  const grid = new Float64Array(w * h)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const ix = x - 1,
        iy = y - 1
      const isIn = ix >= 0 && iy >= 0 && ix < width && iy < height && inside[iy * width + ix] === 1
      grid[y * w + x] = isIn ? INF : 0
    }
  }
  const n = Math.max(w, h)
  const f = new Float64Array(n),
    d = new Float64Array(n),
    z = new Float64Array(n + 1)
  const v = new Int32Array(n)
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) f[y] = grid[y * w + x]
    distance1d(f, h, d, v, z)
    for (let y = 0; y < h; y++) grid[y * w + x] = d[y]
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) f[x] = grid[y * w + x]
    distance1d(f, w, d, v, z)
    for (let x = 0; x < w; x++) grid[y * w + x] = d[x]
  }
  const out = new Float64Array(width * height)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = grid[(y + 1) * w + x + 1]
  return out
}

/** The pixel of `region` farthest from its boundary (first in row-major order on ties), or null. */
export function farthestInside(region: Uint8Array, width: number, height: number): { x: number; y: number } | null {
  const dist = squaredDistanceToOutside(region, width, height)
  let best = -1,
    at = -1
  for (let i = 0; i < dist.length; i++) {
    if (region[i] === 1 && dist[i] > best) {
      best = dist[i]
      at = i
    }
  }
  if (at < 0) return null
  return { x: at % width, y: Math.floor(at / width) }
}

/** Connected regions (4-neighbour) of `mask`: a label per pixel (0 outside) and each label's size. */
function regions(mask: Uint8Array, width: number, height: number): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(width * height)
  const sizes = [0]
  const stack: number[] = []
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 1 || labels[start] !== 0) continue
    const label = sizes.length
    let size = 0
    labels[start] = label
    stack.push(start)
    while (stack.length > 0) {
      const p = stack.pop() as number
      size++
      const x = p % width
      const neighbours = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]
      for (const q of neighbours) {
        if (q >= 0 && q < mask.length && mask[q] === 1 && labels[q] === 0) {
          labels[q] = label
          stack.push(q)
        }
      }
    }
    sizes.push(size)
  }
  return { labels, sizes }
}

/** The first click on an object: positive, at its interior point farthest from its boundary. */
export function firstClick(truth: Uint8Array, width: number, height: number): SimulatedClick | null {
  const at = farthestInside(truth, width, height)
  return at === null ? null : { x: at.x + 0.5, y: at.y + 0.5, label: 1 }
}

/**
 * The next click given the truth and the current prediction: into the largest error region,
 * positive for a missed part, negative for a false one; null when there is no error.
 */
export function nextClick(
  truth: Uint8Array,
  predicted: Uint8Array,
  width: number,
  height: number,
): SimulatedClick | null {
  const missed = new Uint8Array(truth.length)
  const extra = new Uint8Array(truth.length)
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] === 1 && predicted[i] === 0) missed[i] = 1
    else if (truth[i] === 0 && predicted[i] === 1) extra[i] = 1
  }
  let best: { mask: Uint8Array; labels: Int32Array; label: number; size: number; positive: boolean } | null = null
  for (const [mask, positive] of [
    [missed, true],
    [extra, false],
  ] as const) {
    const { labels, sizes } = regions(mask, width, height)
    for (let label = 1; label < sizes.length; label++) {
      if (best === null || sizes[label] > best.size) best = { mask, labels, label, size: sizes[label], positive }
    }
  }
  if (best === null) return null
  const region = new Uint8Array(truth.length)
  for (let i = 0; i < region.length; i++) if (best.labels[i] === best.label) region[i] = 1
  const at = farthestInside(region, width, height) as { x: number; y: number }
  return { x: at.x + 0.5, y: at.y + 0.5, label: best.positive ? 1 : 0 }
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let both = 0,
    either = 0
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 1 || b[i] === 1) {
      either++
      if (a[i] === 1 && b[i] === 1) both++
    }
  }
  return either === 0 ? 1 : both / either
}

/** Clicks to reach `threshold` IoU (1-based), or `maxClicks` when never reached. */
export function clicksToReach(ious: readonly number[], threshold: number, maxClicks: number): number {
  const k = ious.findIndex((v) => v >= threshold)
  return k < 0 ? maxClicks : k + 1
}
