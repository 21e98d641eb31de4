// The engine with the embedding cache in front of its encoder: what `annotate`, `segment` (on
// an image inside a project folder) and later the app's decode call. One object is segmented
// from an embedding that comes from memory, disk or the encoder, and the result says which.

import { existsSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { DB_FILE, PROJECT_DIR, defaultUserDataDir, folderKey } from '../project/index.ts'
import type { Engine, PolygonOptions, SegmentResult } from '../segment/engine.ts'
import type { PromptRecord } from '../../../src-preload/contract/schemas.ts'
import { EMBEDDINGS_DIR, EmbeddingCache, embeddingsDirOf, type EmbeddingCacheOptions } from './cache.ts'
import { engineEncoder, expectationOf } from './encoder.ts'
import type { Region } from '../segment/region.ts'
import {
  EmbeddingScheduler,
  type EmbeddingResult,
  type EmbeddingSource,
  type ImageRef,
  type SchedulerOptions,
} from './scheduler.ts'

export interface OpenEmbeddingsOptions extends EmbeddingCacheOptions, SchedulerOptions {
  maxPixels?: number
}

/** A scheduler over the cache in `dir` for the engine's model (hashes the encoder weights once; remembered). */
export async function openEmbeddings(
  engine: Engine,
  dir: string,
  options: OpenEmbeddingsOptions = {},
): Promise<EmbeddingScheduler> {
  const cache = new EmbeddingCache(dir, options)
  const encoder = await engineEncoder(engine, cache.hasher, { maxPixels: options.maxPixels })
  return new EmbeddingScheduler(cache, encoder, options)
}

/** openEmbeddings for a project: the cache beside its database. */
export function openProjectEmbeddings(
  engine: Engine,
  project: { dbPath: string },
  options: OpenEmbeddingsOptions = {},
): Promise<EmbeddingScheduler> {
  return openEmbeddings(engine, embeddingsDirOf(project), options)
}

/**
 * The embeddings folder of the project an image file belongs to, or null when it is in none:
 * the nearest enclosing folder with a project database, in the folder itself or, for a
 * read-only folder, in user data.
 */
export function embeddingsDirForImage(file: string, userDataDir = defaultUserDataDir()): string | null {
  let dir: string
  try {
    dir = dirname(realpathSync(resolve(file)))
  } catch {
    return null
  }
  for (;;) {
    if (existsSync(join(dir, PROJECT_DIR, DB_FILE))) return join(dir, PROJECT_DIR, EMBEDDINGS_DIR)
    const elsewhere = join(userDataDir, 'projects', folderKey(dir))
    if (existsSync(join(elsewhere, DB_FILE))) return join(elsewhere, EMBEDDINGS_DIR)
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/** The embedding of one image file, and where it came from (memory, disk or the encoder). */
export function getEmbedding(
  embeddings: EmbeddingScheduler,
  image: string | ImageRef,
  options: { signal?: AbortSignal } = {},
): Promise<EmbeddingResult> {
  return embeddings.get(typeof image === 'string' ? { file: image } : image, options)
}

/**
 * The embedding of a region of an image file (region.ts), cached per (image content, model,
 * region) in memory and on disk like a whole image's. Straight through the cache, not the
 * scheduler's queue: a region is what the user looks at now, never something to prefetch.
 * Two requests for the same region at once may both encode it (the later write wins).
 */
export async function getRegionEmbedding(
  embeddings: EmbeddingScheduler,
  file: string,
  region: Region,
): Promise<EmbeddingResult> {
  const t0 = performance.now()
  const { cache, encoder } = embeddings
  const key = await cache.keyOf(file, encoder.modelKey, region)
  const inMemory = cache.fromMemory(key)
  if (inMemory)
    return { embedding: inMemory, source: 'memory', timings: { preprocess: 0, encode: performance.now() - t0 } }
  const fromDisk = await cache.fromDisk(key, await expectationOf(encoder, file))
  if (fromDisk)
    return { embedding: fromDisk, source: 'disk', timings: { preprocess: 0, encode: performance.now() - t0 } }
  const t1 = performance.now()
  const prepared = await encoder.preprocess(file, region)
  const t2 = performance.now()
  const embedding = await encoder.encode(prepared)
  // Written in the background; close() of the scheduler flushes it.
  cache.store(key, embedding).catch(() => {})
  return { embedding, source: 'encoder', timings: { preprocess: t2 - t1, encode: t1 - t0 + performance.now() - t2 } }
}

export type CachedSegmentResult = SegmentResult & { embedding: EmbeddingSource }

/**
 * engine.segment() with the cache: the same result, where `timings.encode` is the time spent
 * obtaining the embedding (near zero on a hit) and `embedding` says where it came from.
 */
export async function segmentCached(
  engine: Engine,
  embeddings: EmbeddingScheduler,
  file: string,
  prompt: PromptRecord,
  options: PolygonOptions & { candidate?: number; region?: Region | null } = {},
): Promise<CachedSegmentResult> {
  const { region = null, ...rest } = options
  const { embedding, source, timings } = region
    ? await getRegionEmbedding(embeddings, file, region)
    : await getEmbedding(embeddings, file)
  return { ...(await engine.segmentEmbedding(embedding, prompt, rest, timings)), embedding: source }
}
