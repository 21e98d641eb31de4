// Decides which embedding is computed when, so the annotator almost never waits for the
// encoder.
//
// - One queue in front of the encoder; by default one encoder run at a time (on CPU a second
//   run only splits the same cores).
// - The image the user is on goes first. Its memory and disk lookups do not queue at all: a
//   cached image is ready in milliseconds even while a prefetch encode is running.
// - Images someone is waiting for (a decode) come next, in the order they were asked for.
// - When nothing is waiting, the neighbours of the current image in project order are
//   prefetched: next 1, previous 1, next 2, previous 2, ... up to `prefetch` each side.
// - Switching images drops queued prefetch work that is no longer wanted. Work already running
//   stops at the next step boundary (after hashing, after the disk read, after preprocessing);
//   an encoder run in progress cannot be interrupted and its result is kept.
// - A request for an image already being looked up or encoded joins that work: never two
//   encodes of one image.
// Every state change and queue change is an event, for a UI to show.

import { resolve } from 'node:path'
import { CancelledError, UserError } from '../errors.ts'
import type { EmbeddingSource, EmbeddingState } from '../../../src-preload/contract/segment.ts'
import type { Embedding } from '../segment/prompt.ts'
import { EmbeddingCache } from './cache.ts'
import type { DiskCacheEvent } from './disk-cache.ts'
import { expectationOf, type ImageEncoder } from './encoder.ts'
import type { EntryKey } from './entry-file.ts'

export type { EmbeddingSource }

export interface EmbeddingResult {
  embedding: Embedding
  source: EmbeddingSource
  /**
   * Milliseconds this request spent: `preprocess` in preprocessing (0 unless the encoder ran
   * for it), `encode` everything else it took to obtain the embedding (near zero on a hit).
   */
  timings: { preprocess: number; encode: number }
}

/** An image as the scheduler sees it: its file, and the caller's id (e.g. the project's image id). */
export interface ImageRef {
  file: string
  id?: number
}

/** The states an embedding job passes through: every EmbeddingState but 'none' (nothing asked yet). */
export type JobState = Exclude<EmbeddingState, 'none'>

export type SchedulerEvent =
  | {
      type: 'state'
      image: ImageRef
      state: JobState
      /** With 'ready'. */
      source?: EmbeddingSource
      /** With 'failed'. */
      error?: Error
      /** With 'encoding': the recent average encode time, for a progress indicator. */
      expectedMs?: number
    }
  | { type: 'queue'; queued: number; running: number; current: ImageRef | null }
  | { type: 'cache'; event: DiskCacheEvent | { type: 'write-failed'; file: string; error: Error } }

export interface SchedulerOptions {
  /** Neighbours prefetched on each side of the current image; default 2, 0 turns prefetch off. */
  prefetch?: number
  /** Encoder runs at once; default 1. */
  concurrency?: number
}

export { CancelledError }

interface JobOutcome {
  embedding: Embedding
  source: EmbeddingSource
}

interface Job {
  image: ImageRef
  file: string
  /** Requests (get) still waiting for this job. */
  waiters: number
  /** Order of the first request, for first-come first-served among requests. */
  requestSeq: number
  phase: 'lookup' | 'queued' | 'running'
  key: EntryKey | null
  /** Memory and disk were checked (a job that queues after its lookup goes straight to the encoder). */
  looked: boolean
  /** When preprocessing ran (performance.now()), to charge each request only its share. */
  preprocessSpan: [number, number]
  promise: Promise<JobOutcome>
  resolve: (outcome: JobOutcome) => void
  reject: (err: Error) => void
}

/** Rank of a tier, for ordering queued jobs: lower runs first. */
const TIER = { current: 0, requested: 1, prefetch: 2 } as const

export class EmbeddingScheduler {
  readonly cache: EmbeddingCache
  readonly encoder: ImageEncoder
  private readonly prefetchCount: number
  private readonly concurrency: number
  private order: ImageRef[] = []
  private position = new Map<string, number>()
  private current: ImageRef | null = null
  /** Files wanted as prefetch, best first. */
  private wanted: string[] = []
  private readonly jobs = new Map<string, Job>()
  private readonly queue: Job[] = []
  private running = 0
  /** Lookups of requested or current images in progress: prefetch does not start meanwhile. */
  private lookups = 0
  private seq = 0
  /** Memory-cache key last seen per file, so neighbours already in memory are not queued. */
  private readonly knownKeys = new Map<string, string>()
  private readonly listeners = new Set<(event: SchedulerEvent) => void>()
  private idleWaiters: (() => void)[] = []
  private encodeAverageMs: number | null = null
  private closed = false
  private readonly stopCacheEvents: () => void

  constructor(cache: EmbeddingCache, encoder: ImageEncoder, options: SchedulerOptions = {}) {
    this.cache = cache
    this.encoder = encoder
    this.prefetchCount = Math.max(0, options.prefetch ?? 2)
    this.concurrency = Math.max(1, options.concurrency ?? 1)
    this.stopCacheEvents = cache.onDiskEvent((event) => this.emit({ type: 'cache', event }))
  }

  // --- subscribing ----------------------------------------------------------------------------

  on(listener: (event: SchedulerEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(event: SchedulerEvent): void {
    for (const l of this.listeners) {
      try {
        l(event)
      } catch {
        // A faulty listener must not break the queue.
      }
    }
  }

  private emitState(job: Job, state: JobState, extra: Partial<Extract<SchedulerEvent, { type: 'state' }>> = {}): void {
    this.emit({ type: 'state', image: job.image, state, ...extra })
  }

  private emitQueue(): void {
    this.emit({ type: 'queue', queued: this.queue.length, running: this.running, current: this.current })
  }

  // --- what the user is doing -----------------------------------------------------------------

  /** The project's images in order: where "next" and "previous" are. */
  setOrder(images: readonly ImageRef[]): void {
    this.order = [...images]
    this.position = new Map(this.order.map((image, i) => [resolve(image.file), i]))
    if (this.current) this.setCurrent(this.current)
  }

  /**
   * The user is now on `image` (null: on none). Its embedding is looked up at once and, on a
   * miss, encoded before anything else; prefetch is planned around it and queued work that is
   * no longer wanted is dropped.
   */
  setCurrent(image: ImageRef | null): void {
    this.current = image ? { ...image, file: resolve(image.file) } : null
    this.wanted = this.planPrefetch()
    for (const job of [...this.queue]) if (!this.isWanted(job)) this.cancel(job)
    if (this.current && !this.closed) {
      const job = this.jobs.get(this.current.file) ?? this.startLookup(this.current)
      if (job.phase === 'queued') this.pump()
    }
    for (const file of this.wanted) {
      if (this.jobs.has(file)) continue
      const known = this.knownKeys.get(file)
      if (known && this.cache.memory.has(known)) continue
      this.enqueuePrefetch(this.order[this.position.get(file) as number])
    }
    this.pump()
    this.emitQueue()
  }

  /**
   * The embedding of `image`, from memory, disk or the encoder: what a decode calls. Joins work
   * already under way for the image. `signal` withdraws this request (the work continues if
   * someone else still wants it).
   */
  get(imageArg: ImageRef, options: { signal?: AbortSignal } = {}): Promise<EmbeddingResult> {
    if (this.closed) return Promise.reject(new Error('embedding scheduler is closed'))
    const start = performance.now()
    const image = { ...imageArg, file: resolve(imageArg.file) }
    const job = this.jobs.get(image.file) ?? this.startLookup(image)
    job.waiters++
    if (job.requestSeq < 0) job.requestSeq = this.seq++
    if (job.phase === 'queued') this.pump()
    return new Promise<EmbeddingResult>((resolveResult, rejectResult) => {
      let settled = false
      const onAbort = () => {
        if (settled) return
        settled = true
        job.waiters--
        if (job.phase === 'queued' && !this.isWanted(job)) this.cancel(job)
        rejectResult(new CancelledError(`${image.file}: embedding request withdrawn`))
      }
      if (options.signal?.aborted) return onAbort()
      options.signal?.addEventListener('abort', onAbort, { once: true })
      job.promise.then(
        (outcome) => {
          if (settled) return
          settled = true
          options.signal?.removeEventListener('abort', onAbort)
          job.waiters--
          const total = performance.now() - start
          const [p0, p1] = job.preprocessSpan
          const preprocess = outcome.source === 'encoder' ? Math.max(0, p1 - Math.max(p0, start)) : 0
          resolveResult({
            embedding: outcome.embedding,
            source: outcome.source,
            timings: { preprocess, encode: total - preprocess },
          })
        },
        (err: Error) => {
          if (settled) return
          settled = true
          options.signal?.removeEventListener('abort', onAbort)
          job.waiters--
          rejectResult(err)
        },
      )
    })
  }

  /** What is known about an image's embedding right now (no I/O). */
  stateOf(fileArg: string): EmbeddingState {
    const file = resolve(fileArg)
    const job = this.jobs.get(file)
    if (job) return job.phase === 'queued' ? 'queued' : job.phase === 'lookup' ? 'reading' : 'encoding'
    const known = this.knownKeys.get(file)
    return known && this.cache.memory.has(known) ? 'ready' : 'none'
  }

  /** Resolves when no work is queued or running (the CLI and tests wait on this). */
  idle(): Promise<void> {
    if (this.jobs.size === 0) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  /** Drops queued work, waits for running work and pending disk writes. */
  async close(): Promise<void> {
    this.closed = true
    this.current = null
    this.wanted = []
    for (const job of [...this.queue]) this.cancel(job, true)
    await this.idle()
    await this.cache.flush()
    this.stopCacheEvents()
  }

  // --- planning -------------------------------------------------------------------------------

  private planPrefetch(): string[] {
    if (!this.current || this.prefetchCount === 0) return []
    const at = this.position.get(this.current.file)
    if (at === undefined) return []
    const files: string[] = []
    for (let d = 1; d <= this.prefetchCount; d++) {
      for (const i of [at + d, at - d]) if (i >= 0 && i < this.order.length) files.push(resolve(this.order[i].file))
    }
    return files
  }

  private isWanted(job: Job): boolean {
    return !this.closed && (job.waiters > 0 || job.file === this.current?.file || this.wanted.includes(job.file))
  }

  private rank(job: Job): number {
    if (job.file === this.current?.file) return TIER.current
    if (job.waiters > 0) return TIER.requested + job.requestSeq / 1e9
    const i = this.wanted.indexOf(job.file)
    return TIER.prefetch + (i < 0 ? 1 : i / 1e6)
  }

  // --- jobs -----------------------------------------------------------------------------------

  private newJob(image: ImageRef, phase: Job['phase']): Job {
    let resolveJob!: (o: JobOutcome) => void
    let rejectJob!: (e: Error) => void
    const promise = new Promise<JobOutcome>((res, rej) => {
      resolveJob = res
      rejectJob = rej
    })
    // Prefetch has no one waiting: its failures are reported as events, not unhandled rejections.
    promise.catch(() => {})
    const job: Job = {
      image,
      file: image.file,
      waiters: 0,
      requestSeq: -1,
      phase,
      key: null,
      looked: false,
      preprocessSpan: [0, 0],
      promise,
      resolve: resolveJob,
      reject: rejectJob,
    }
    this.jobs.set(job.file, job)
    return job
  }

  /** Current or requested image: memory and disk now, the encoder queue only on a miss. */
  private startLookup(image: ImageRef): Job {
    const job = this.newJob(image, 'lookup')
    this.lookups++
    void this.lookup(job).then(
      (hit) => {
        this.lookups--
        if (!hit && !this.isWanted(job)) this.finishCancelled(job)
        else if (!hit) {
          job.phase = 'queued'
          this.queue.push(job)
          this.emitState(job, 'queued')
        }
        // Prefetch was held back while this lookup ran; whatever it found (a memory or disk hit,
        // for the current image or for a request it joined), the neighbours may start now.
        this.pump()
        this.emitQueue()
      },
      (err: Error) => {
        this.lookups--
        this.fail(job, err)
        this.pump()
      },
    )
    return job
  }

  private enqueuePrefetch(image: ImageRef): void {
    const job = this.newJob({ ...image, file: resolve(image.file) }, 'queued')
    this.queue.push(job)
    this.emitState(job, 'queued')
  }

  /** Memory, then disk. True when the job finished with a hit. */
  private async lookup(job: Job): Promise<boolean> {
    const key = job.key ?? (await this.cache.keyOf(job.file, this.encoder.modelKey))
    job.key = key
    const memoryKey = EmbeddingCache.memoryKey(key)
    this.knownKeys.set(job.file, memoryKey)
    const inMemory = this.cache.fromMemory(key)
    if (inMemory) {
      this.finish(job, { embedding: inMemory, source: 'memory' })
      return true
    }
    if (!this.isWanted(job)) return false
    let fromDisk = null
    if (this.cache.disk) {
      this.emitState(job, 'reading')
      // The image's real size comes from its own header, never from the entry.
      fromDisk = await this.cache.fromDisk(key, await expectationOf(this.encoder, job.file))
    }
    job.looked = true
    if (fromDisk) {
      this.finish(job, { embedding: fromDisk, source: 'disk' })
      return true
    }
    return false
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0 && !this.closed) {
      let best = -1
      let bestRank = Infinity
      for (let i = 0; i < this.queue.length; i++) {
        const r = this.rank(this.queue[i])
        // Prefetch waits while a current or requested image is still being looked up: if that
        // lookup misses, it must not find the encoder busy with a neighbour.
        if (r >= TIER.prefetch && this.lookups > 0) continue
        if (r < bestRank) {
          bestRank = r
          best = i
        }
      }
      if (best < 0) break
      const [job] = this.queue.splice(best, 1)
      job.phase = 'running'
      this.running++
      void this.run(job).finally(() => {
        this.running--
        this.pump()
        this.emitQueue()
      })
    }
  }

  private async run(job: Job): Promise<void> {
    try {
      if (!job.looked && (await this.lookup(job))) return
      if (!this.isWanted(job)) return this.finishCancelled(job)
      this.emitState(job, 'preprocessing')
      const t0 = performance.now()
      const prepared = await this.encoder.preprocess(job.file)
      job.preprocessSpan = [t0, performance.now()]
      if (!this.isWanted(job)) return this.finishCancelled(job)
      this.emitState(job, 'encoding', this.encodeAverageMs === null ? {} : { expectedMs: this.encodeAverageMs })
      const t1 = performance.now()
      const embedding = await this.encoder.encode(prepared)
      const ms = performance.now() - t1
      this.encodeAverageMs = this.encodeAverageMs === null ? ms : 0.7 * this.encodeAverageMs + 0.3 * ms
      const key = job.key as EntryKey
      this.cache.store(key, embedding).catch((error: Error) => {
        this.emit({ type: 'cache', event: { type: 'write-failed', file: job.file, error } })
      })
      this.finish(job, { embedding, source: 'encoder' })
    } catch (err) {
      this.fail(job, err instanceof Error ? err : new UserError('embedding', String(err)))
    }
  }

  private settle(job: Job): void {
    if (this.jobs.get(job.file) === job) this.jobs.delete(job.file)
    if (this.jobs.size === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const w of waiters) w()
    }
  }

  private finish(job: Job, outcome: JobOutcome): void {
    this.settle(job)
    job.resolve(outcome)
    this.emitState(job, 'ready', { source: outcome.source })
  }

  private fail(job: Job, err: Error): void {
    this.settle(job)
    job.reject(err)
    this.emitState(job, 'failed', { error: err })
  }

  private finishCancelled(job: Job): void {
    this.settle(job)
    job.reject(new CancelledError(`${job.file}: no longer wanted`))
    this.emitState(job, 'cancelled')
  }

  private cancel(job: Job, evenIfRequested = false): void {
    if (job.phase !== 'queued' || (!evenIfRequested && this.isWanted(job))) return
    const i = this.queue.indexOf(job)
    if (i >= 0) this.queue.splice(i, 1)
    this.finishCancelled(job)
  }
}
