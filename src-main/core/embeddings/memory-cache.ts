// The embeddings of the last few images, in memory: switching back to an image, or to a
// prefetched neighbour, is a map lookup. Bounded by count and by bytes (a SAM 2.1 embedding is
// about 16.8 MB as float32); the least recently used goes first.

import type { Embedding } from '../segment/prompt.ts'

export interface MemoryCacheOptions {
  /** Most embeddings held; default 8 (the current image, two each side, and a few visited). */
  maxEntries?: number
  /** Most bytes held; default 256 MiB. */
  maxBytes?: number
}

export const DEFAULT_MEMORY_ENTRIES = 8
export const DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024

export function embeddingBytes(e: Embedding): number {
  return e.imageEmbed.byteLength + e.highResFeats0.byteLength + e.highResFeats1.byteLength
}

export class MemoryCache {
  readonly maxEntries: number
  readonly maxBytes: number
  // A Map iterates in insertion order: re-inserting on use keeps the oldest first.
  private readonly entries = new Map<string, Embedding>()
  private bytes = 0

  constructor(options: MemoryCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MEMORY_ENTRIES
    this.maxBytes = options.maxBytes ?? DEFAULT_MEMORY_BYTES
  }

  get size(): number {
    return this.entries.size
  }

  get totalBytes(): number {
    return this.bytes
  }

  has(key: string): boolean {
    return this.entries.has(key)
  }

  get(key: string): Embedding | undefined {
    const e = this.entries.get(key)
    if (e) {
      this.entries.delete(key)
      this.entries.set(key, e)
    }
    return e
  }

  set(key: string, embedding: Embedding): void {
    this.delete(key)
    const bytes = embeddingBytes(embedding)
    // One that could never fit is not kept (it would only flush everything else).
    if (this.maxEntries <= 0 || bytes > this.maxBytes) return
    this.entries.set(key, embedding)
    this.bytes += bytes
    for (const [oldKey, old] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break
      this.entries.delete(oldKey)
      this.bytes -= embeddingBytes(old)
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key)
    if (!e) return
    this.entries.delete(key)
    this.bytes -= embeddingBytes(e)
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }
}
