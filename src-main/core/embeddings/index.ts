// The embedding cache's public surface: memory and disk cache, the scheduler that prefetches
// and orders encoder work, batch precompute, and the engine wired to them. Import from here.

export { PREPROCESS_VERSION, engineEncoder, expectationOf, modelKeyOf, type ImageEncoder } from './encoder.ts'
export { EmbeddingCache, EMBEDDINGS_DIR, embeddingsDirOf, type EmbeddingCacheOptions } from './cache.ts'
export {
  MemoryCache,
  embeddingBytes,
  DEFAULT_MEMORY_BYTES,
  DEFAULT_MEMORY_ENTRIES,
  type MemoryCacheOptions,
} from './memory-cache.ts'
export {
  DiskCache,
  DEFAULT_DISK_BYTES,
  entryName,
  type DiskCacheEvent,
  type DiskCacheOptions,
  type DiskEntry,
} from './disk-cache.ts'
export {
  CorruptEntryError,
  MODEL_TENSOR_LENGTHS,
  type EntryExpectation,
  type EntryKey,
  type StorageType,
} from './entry-file.ts'
export { ContentHasher } from './content-hash.ts'
export { toFloat16, fromFloat16 } from './float16.ts'
export {
  EmbeddingScheduler,
  CancelledError,
  type EmbeddingResult,
  type EmbeddingSource,
  type JobState,
  type ImageRef,
  type SchedulerEvent,
  type SchedulerOptions,
} from './scheduler.ts'
export {
  precomputeEmbeddings,
  type PrecomputeImage,
  type PrecomputeOptions,
  type PrecomputeProgress,
  type PrecomputeSummary,
} from './precompute.ts'
export {
  openEmbeddings,
  openProjectEmbeddings,
  embeddingsDirForImage,
  getEmbedding,
  getRegionEmbedding,
  segmentCached,
  type CachedSegmentResult,
  type OpenEmbeddingsOptions,
} from './segment-cached.ts'
