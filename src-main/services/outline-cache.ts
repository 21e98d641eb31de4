// Outlines of stored RLE masks, traced once per mask while the project is open: listing an image
// again, reopening it after another, or undoing to an earlier state finds the trace instead of
// redoing it. Keyed by the mask itself (its counts and size), so a changed mask can never be
// given a stale outline, and bounded by size, least recently used going first.
import type { CompressedRle, OutlinePart } from '../../src-preload/contract/schemas.ts'

/** What the cache may hold, counted as characters of keys plus numbers of outlines (~ 8 bytes each at most). */
const MAX_UNITS = 16_000_000

function keyOf(rle: CompressedRle): string {
  return `${rle.size[0]}x${rle.size[1]}:${rle.counts}`
}

function unitsOf(key: string, outline: OutlinePart[]): number {
  let units = key.length
  for (const part of outline) {
    units += part.outer.length
    for (const hole of part.holes) units += hole.length
  }
  return units
}

export class OutlineCache {
  private entries = new Map<string, { outline: OutlinePart[]; units: number }>()
  private units = 0

  constructor(private readonly maxUnits = MAX_UNITS) {}

  get(rle: CompressedRle): OutlinePart[] | undefined {
    const key = keyOf(rle)
    const found = this.entries.get(key)
    if (found === undefined) return undefined
    // Map order is insertion order: moving a hit to the end makes the first entry the least recently used.
    this.entries.delete(key)
    this.entries.set(key, found)
    return found.outline
  }

  set(rle: CompressedRle, outline: OutlinePart[]): void {
    const key = keyOf(rle)
    const units = unitsOf(key, outline)
    if (units > this.maxUnits) return
    const old = this.entries.get(key)
    if (old !== undefined) {
      this.entries.delete(key)
      this.units -= old.units
    }
    this.entries.set(key, { outline, units })
    this.units += units
    for (const [oldest, entry] of this.entries) {
      if (this.units <= this.maxUnits) break
      this.entries.delete(oldest)
      this.units -= entry.units
    }
  }

  clear(): void {
    this.entries = new Map()
    this.units = 0
  }

  get size(): number {
    return this.entries.size
  }
}
