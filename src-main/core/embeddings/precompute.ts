// Batch precompute for `embed`: every image of a project not yet in the disk cache, in project
// order, so a team can compute embeddings once on a GPU machine and ship them with the folder.
//
// Resumable by construction: each entry is renamed into place whole as soon as it is encoded,
// and a run starts by skipping images whose entry exists, so an interrupted run (Ctrl-C, a
// crash, a full disk) continues where it stopped when started again.
// Preprocessing of the next image overlaps the encoder run of the current one (libvips and
// onnxruntime use separate threads; on a GPU machine the CPU side is otherwise idle).
// The run stops, rather than evicting its own work, when the cache's size bound is reached.

import type { EmbeddingCache } from './cache.ts'
import { expectationOf, type ImageEncoder } from './encoder.ts'
import type { EntryKey } from './entry-file.ts'
import { payloadBytes } from './entry-file.ts'
import type { PreparedImage } from '../segment/preprocess.ts'

export interface PrecomputeImage {
  file: string
  /** How the image is named in messages (its path in the project). */
  label: string
}

export interface PrecomputeProgress {
  phase: 'checking' | 'encoding'
  done: number
  total: number
}

export interface PrecomputeOptions {
  /** Encode at most this many images not yet cached. */
  limit?: number
  /** Stops after the image being encoded is stored. */
  signal?: AbortSignal
  onProgress?: (progress: PrecomputeProgress) => void
}

export interface PrecomputeSummary {
  images: number
  alreadyCached: number
  encoded: number
  failed: { image: string; error: string }[]
  /** Why the run ended. */
  stopped: 'done' | 'limit' | 'interrupted' | 'cache-full'
  /** Images still not cached after this run (failed ones included). */
  remaining: number
  ms: number
}

type Prepared = { ok: true; image: PreparedImage; ms: number } | { ok: false; error: Error }

export async function precomputeEmbeddings(
  images: readonly PrecomputeImage[],
  cache: EmbeddingCache,
  encoder: ImageEncoder,
  options: PrecomputeOptions = {},
): Promise<PrecomputeSummary> {
  const t0 = performance.now()
  const disk = cache.disk
  if (!disk) throw new Error('precomputeEmbeddings needs a disk cache')
  const runStart = Date.now()
  const failed: PrecomputeSummary['failed'] = []
  await disk.entries() // before any touch below, so the index sees this run's uses

  const todo: { image: PrecomputeImage; key: EntryKey }[] = []
  let alreadyCached = 0
  for (let i = 0; i < images.length; i++) {
    const image = images[i]
    try {
      const key = await cache.keyOf(image.file, encoder.modelKey)
      // An entry counts only when its header agrees with the image's own header and the
      // model: a shipped entry that does not is encoded again and overwritten.
      if (await disk.has(key, await expectationOf(encoder, image.file))) {
        alreadyCached++
        // Recently used: the bound then evicts other folders' or models' entries, not these.
        disk.touch(key)
      } else todo.push({ image, key })
    } catch (err) {
      failed.push({ image: image.label, error: (err as Error).message })
    }
    options.onProgress?.({ phase: 'checking', done: i + 1, total: images.length })
    if (options.signal?.aborted) break
  }

  const limited = options.limit !== undefined && options.limit < todo.length
  const work = limited ? todo.slice(0, options.limit) : todo
  const prepare = (i: number): Promise<Prepared> => {
    const t = performance.now()
    return encoder.preprocess(work[i].image.file).then(
      (image) => ({ ok: true as const, image, ms: performance.now() - t }),
      (error: Error) => ({ ok: false as const, error }),
    )
  }
  let stopped: PrecomputeSummary['stopped'] = options.signal?.aborted ? 'interrupted' : limited ? 'limit' : 'done'
  let encoded = 0
  let entryBytes = 0
  let next: Promise<Prepared> | null = work.length > 0 && stopped !== 'interrupted' ? prepare(0) : null
  for (let i = 0; next && i < work.length; i++) {
    if (options.signal?.aborted) {
      stopped = 'interrupted'
      break
    }
    if (entryBytes > 0 && !(await disk.canFit(entryBytes, runStart))) {
      stopped = 'cache-full'
      break
    }
    const prepared = await next
    next = i + 1 < work.length ? prepare(i + 1) : null
    const { image, key } = work[i]
    if (!prepared.ok) {
      failed.push({ image: image.label, error: prepared.error.message })
    } else {
      const embedding = await encoder.encode(prepared.image)
      entryBytes = payloadBytes(embedding, disk.dtype) + 1024
      if (!(await disk.canFit(entryBytes, runStart))) {
        stopped = 'cache-full'
        break
      }
      // false: not stored (its place holds something that is not an entry file, reported by
      // the cache); the image stays among the remaining ones.
      if (await disk.put(key, embedding)) encoded++
    }
    options.onProgress?.({ phase: 'encoding', done: i + 1, total: work.length })
  }
  // A preprocess started for an image that will not be encoded now: let it finish quietly.
  await next
  return {
    images: images.length,
    alreadyCached,
    encoded,
    failed,
    stopped,
    remaining: images.length - alreadyCached - encoded,
    ms: performance.now() - t0,
  }
}
