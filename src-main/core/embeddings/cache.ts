// The two cache levels behind one key: an image file's content hash, the model key and the
// preprocessing version. Memory first (a map lookup), then disk (read, verify, widen float16);
// the scheduler decides when to fall through to the encoder.

import { dirname, join, resolve } from 'node:path'
import type { Embedding } from '../segment/prompt.ts'
import { ContentHasher } from './content-hash.ts'
import { DiskCache, type DiskCacheEvent, type DiskCacheOptions } from './disk-cache.ts'
import { PREPROCESS_VERSION } from './encoder.ts'
import type { EntryExpectation, EntryKey } from './entry-file.ts'
import { MemoryCache, type MemoryCacheOptions } from './memory-cache.ts'
import { regionKey, type Region } from '../segment/region.ts'

export const EMBEDDINGS_DIR = 'embeddings'
const HASH_LOG = 'hashes.jsonl'

export interface EmbeddingCacheOptions {
  memory?: MemoryCacheOptions
  /** false: memory only (nothing written, e.g. a read-only folder outside any project). */
  disk?: DiskCacheOptions | false
}

/** Where a project's embeddings live: beside its database (in the folder, or in user data when the folder is read-only). */
export function embeddingsDirOf(project: { dbPath: string }): string {
  return join(dirname(project.dbPath), EMBEDDINGS_DIR)
}

export class EmbeddingCache {
  readonly dir: string
  readonly memory: MemoryCache
  readonly disk: DiskCache | null
  readonly hasher: ContentHasher

  constructor(dir: string, options: EmbeddingCacheOptions = {}) {
    this.dir = resolve(dir)
    this.memory = new MemoryCache(options.memory)
    this.disk = options.disk === false ? null : new DiskCache(this.dir, options.disk)
    this.hasher = new ContentHasher(options.disk === false ? null : join(this.dir, HASH_LOG))
  }

  /** The key of the file's embedding, or of `region`'s (region.ts) when given. */
  async keyOf(file: string, modelKey: string, region: Region | null = null): Promise<EntryKey> {
    const key: EntryKey = { contentHash: await this.hasher.hash(file), modelKey, preprocess: PREPROCESS_VERSION }
    if (region) key.region = regionKey(region)
    return key
  }

  /** The memory cache's key for an entry key. */
  static memoryKey(key: EntryKey): string {
    return `${key.contentHash}|${key.modelKey}|${key.preprocess}${key.region ? `|${key.region}` : ''}`
  }

  fromMemory(key: EntryKey): Embedding | undefined {
    return this.memory.get(EmbeddingCache.memoryKey(key))
  }

  /**
   * Reads the disk entry and, when sound and in agreement with `expected` (what the caller
   * knows of the image and model), keeps it in memory too.
   */
  async fromDisk(key: EntryKey, expected: EntryExpectation): Promise<Embedding | null> {
    const embedding = (await this.disk?.get(key, expected)) ?? null
    if (embedding) this.memory.set(EmbeddingCache.memoryKey(key), embedding)
    return embedding
  }

  /** Keeps a fresh embedding in memory now and writes it to disk (the returned promise). */
  store(key: EntryKey, embedding: Embedding): Promise<boolean> {
    this.memory.set(EmbeddingCache.memoryKey(key), embedding)
    return this.disk ? this.disk.put(key, embedding) : Promise.resolve(false)
  }

  onDiskEvent(listener: (event: DiskCacheEvent) => void): () => void {
    return this.disk ? this.disk.on(listener) : () => {}
  }

  async flush(): Promise<void> {
    await this.disk?.flush()
  }
}
