// The exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of
// Sampled Functions", 2012): two passes of the lower envelope of parabolas, linear in the
// pixel count. The click simulator needs "the point farthest from the boundary" of a mask, and
// an approximate (chamfer) transform would move clicks between equally plausible pixels
// depending on the approximation, not on the masks.
//
// Squared distances are whole numbers below 2^31 for any image this app accepts, so the grid is
// an Int32Array transformed in place (a 48 MP image costs 192 MB, not three float64 copies).

/** Stands in for infinity in a line: Infinity - Infinity would make the intersections NaN. */
const FAR = 1e20

/** The lower envelope of parabolas over g[0..n), written into out[0..n) (scratch v, z). */
function envelope(g: Float64Array, n: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0
  v[0] = 0
  z[0] = -Infinity
  z[1] = Infinity
  for (let q = 1; q < n; q++) {
    let s = (g[q] + q * q - (g[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k])
    while (s <= z[k]) {
      k--
      s = (g[q] + q * q - (g[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k])
    }
    k++
    v[k] = q
    z[k] = s
    z[k + 1] = Infinity
  }
  k = 0
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++
    const dq = q - v[k]
    out[q] = dq * dq + g[v[k]]
  }
}

/** Columns gathered per block: reading a column pixel by pixel would miss the cache every time. */
const BLOCK = 32

/**
 * The squared distance transform of a padded grid, in place: on entry -1 marks a pixel inside
 * the mask and 0 one outside; on exit each holds the squared Euclidean distance to the nearest
 * pixel outside. The caller gives the grid a one-pixel ring of 0 (outside) all round, so
 * every column and row has a zero and the result is finite. Rows first (contiguous), then
 * columns a block at a time.
 */
export function distanceTransformInPlace(grid: Int32Array, width: number, height: number): void {
  const longest = Math.max(width, height)
  const v = new Int32Array(longest)
  const z = new Float64Array(longest + 1)
  const g = new Float64Array(longest)
  const out = new Float64Array(longest)
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let x = 0; x < width; x++) {
      const value = grid[row + x]
      g[x] = value < 0 ? FAR : value
    }
    envelope(g, width, out, v, z)
    // The ring puts an outside pixel at both ends of every row: all values are finite now.
    for (let x = 0; x < width; x++) grid[row + x] = out[x]
  }
  const block = new Float64Array(BLOCK * height)
  for (let x0 = 0; x0 < width; x0 += BLOCK) {
    const b = Math.min(BLOCK, width - x0)
    for (let y = 0; y < height; y++) {
      const row = y * width + x0
      for (let c = 0; c < b; c++) {
        const value = grid[row + c]
        block[c * height + y] = value
      }
    }
    for (let c = 0; c < b; c++) {
      const column = block.subarray(c * height, (c + 1) * height)
      envelope(column, height, out, v, z)
      column.set(out.subarray(0, height))
    }
    for (let y = 0; y < height; y++) {
      const row = y * width + x0
      for (let c = 0; c < b; c++) grid[row + c] = block[c * height + y]
    }
  }
}

export interface Farthest {
  x: number
  y: number
  /** Euclidean distance to the nearest pixel outside the mask; 0 when the mask is empty. */
  distance: number
}

/**
 * The pixel of a mask farthest from its boundary, where everything beyond the width x height
 * grid counts as outside (as the standard protocol pads the mask with a ring of zeros: a
 * one-pixel object has distance 1). Ties go to the first pixel in row-major order (smallest y, then
 * smallest x), so the same masks always give the same click.
 */
export function farthestInside(mask: Uint8Array, width: number, height: number): Farthest {
  const pw = width + 2
  const grid = new Int32Array(pw * (height + 2))
  let any = false
  for (let y = 0; y < height; y++) {
    const row = (y + 1) * pw + 1
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x]) {
        grid[row + x] = -1
        any = true
      }
    }
  }
  if (!any) return { x: -1, y: -1, distance: 0 }
  distanceTransformInPlace(grid, pw, height + 2)
  let best = -1,
    bestValue = 0
  for (let y = 0; y < height; y++) {
    const row = (y + 1) * pw + 1
    for (let x = 0; x < width; x++) {
      if (grid[row + x] > bestValue) {
        bestValue = grid[row + x]
        best = y * width + x
      }
    }
  }
  return { x: best % width, y: Math.floor(best / width), distance: Math.sqrt(bestValue) }
}

/** Squared distances of a row-major mask (see farthestInside for the frame), unpadded: for tests. */
export function squaredDistanceInside(mask: Uint8Array, width: number, height: number): Int32Array {
  const pw = width + 2
  const grid = new Int32Array(pw * (height + 2))
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) if (mask[y * width + x]) grid[(y + 1) * pw + x + 1] = -1
  distanceTransformInPlace(grid, pw, height + 2)
  const out = new Int32Array(width * height)
  for (let y = 0; y < height; y++) out.set(grid.subarray((y + 1) * pw + 1, (y + 1) * pw + 1 + width), y * width)
  return out
}
