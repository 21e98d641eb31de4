// COCO compressed RLE in the renderer: saved annotations with holes are stored as RLE, so the
// canvas needs their pixels (drawn as a bitmap of their bounding box) and hit-testing needs to
// know whether a pixel is inside. Pure functions, same format as pycocotools (column-major
// runs, alternating background/foreground, LEB128-like string with delta-coded counts).
import type { CompressedRle } from '../../../src-preload/contract/schemas.ts'

/** The run lengths of a compressed counts string (pycocotools' rleFrString). */
export function decodeCounts(counts: string): number[] {
  const runs: number[] = []
  let p = 0
  while (p < counts.length) {
    let x = 0
    let k = 0
    let more = true
    while (more) {
      const c = counts.charCodeAt(p) - 48
      x |= (c & 0x1f) << (5 * k)
      more = (c & 0x20) !== 0
      p++
      k++
      if (!more && (c & 0x10) !== 0) x |= -1 << (5 * k)
    }
    if (runs.length > 2) x += runs[runs.length - 2]
    runs.push(x)
  }
  return runs
}

export interface MaskTile {
  /** Top-left corner in image pixels. */
  x: number
  y: number
  width: number
  height: number
  /** Row-major, 1 inside. */
  data: Uint8Array
}

/** The mask cut to `bbox` (COCO [x, y, w, h], rounded outwards), row-major. */
export function maskTile(rle: CompressedRle, bbox: readonly [number, number, number, number]): MaskTile {
  const [height, width] = rle.size
  const x0 = Math.max(0, Math.floor(bbox[0]))
  const y0 = Math.max(0, Math.floor(bbox[1]))
  const x1 = Math.min(width, Math.ceil(bbox[0] + bbox[2]))
  const y1 = Math.min(height, Math.ceil(bbox[1] + bbox[3]))
  const tile: MaskTile = { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0), data: new Uint8Array(Math.max(0, x1 - x0) * Math.max(0, y1 - y0)) }
  const runs = decodeCounts(rle.counts)
  let index = 0
  for (let r = 0; r < runs.length; r++) {
    const end = index + runs[r]
    if (r % 2 === 1) {
      for (let k = index; k < end; k++) {
        const x = Math.floor(k / height)
        if (x < x0) {
          k = x0 * height - 1
          continue
        }
        if (x >= x1) break
        const y = k - x * height
        if (y >= y0 && y < y1) tile.data[(y - y0) * tile.width + (x - x0)] = 1
      }
    }
    index = end
  }
  return tile
}

export function tileContains(tile: MaskTile, x: number, y: number): boolean {
  const col = Math.floor(x) - tile.x
  const row = Math.floor(y) - tile.y
  if (col < 0 || row < 0 || col >= tile.width || row >= tile.height) return false
  return tile.data[row * tile.width + col] === 1
}
