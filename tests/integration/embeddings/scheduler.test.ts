// The encode queue: the current image first, requests next, then prefetch of the neighbours
// (next 1, previous 1, next 2, ...); switching drops prefetch that is no longer wanted; a
// request joins work under way; one encoder run at a time. Uses the gated fake encoder: these
// tests are about order, not about features.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  CancelledError,
  EmbeddingCache,
  EmbeddingScheduler,
  type SchedulerEvent,
} from '../../../src-main/core/embeddings/index.ts'
import { tempFolder } from '../../helpers/project-fixtures.ts'
import { GatedEncoder, nameOf } from './fake-encoder.ts'

let folder: { dir: string; cleanup: () => void }
let files: string[]
let encoder: GatedEncoder
let scheduler: EmbeddingScheduler
let events: SchedulerEvent[]

const ref = (i: number) => ({ file: files[i], id: i })
const encodes = () =>
  encoder.log.filter((l) => l.startsWith('encode:')).map((l) => l.slice('encode:'.length, -'.bin'.length))
const statesOf = (i: number) =>
  events.flatMap((e) => (e.type === 'state' && e.image.file === files[i] ? [e.state] : []))

/** Resolves with `promise`, or fails naming `what` if it has not settled within a second. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after 1 s`)), 1000)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** A disk cache holding image i's embedding (and nothing in memory), made by a scheduler of its own. */
async function diskCacheWith(i: number): Promise<EmbeddingCache> {
  const cache = new EmbeddingCache(join(folder.dir, 'cache'))
  const seeding = new EmbeddingScheduler(cache, encoder, { prefetch: 0 })
  await seeding.get(ref(i))
  await seeding.close() // flushes the disk write
  cache.memory.clear()
  encoder.log.length = 0
  return cache
}

/** Lets image i through both steps. */
async function pass(i: number): Promise<void> {
  await encoder.pass(`preprocess:a${i}.bin`)
  await encoder.pass(`encode:a${i}.bin`)
}

beforeEach(() => {
  folder = tempFolder('sam-sched-')
  files = Array.from({ length: 10 }, (_, i) => {
    const file = join(folder.dir, `a${i}.bin`)
    writeFileSync(file, `image ${i}`)
    return file
  })
  encoder = new GatedEncoder()
  scheduler = new EmbeddingScheduler(new EmbeddingCache(join(folder.dir, 'cache'), { disk: false }), encoder, {
    prefetch: 2,
  })
  events = []
  scheduler.on((e) => events.push(e))
  scheduler.setOrder(files.map((_, i) => ref(i)))
})

afterEach(async () => {
  encoder.releaseAll()
  await scheduler.close()
  folder.cleanup()
})

describe('embedding scheduler', () => {
  it('encodes the current image first, then prefetches next 1, previous 1, next 2, previous 2', async () => {
    scheduler.setCurrent(ref(4))
    for (const i of [4, 5, 3, 6, 2]) await pass(i)
    await scheduler.idle()
    expect(encodes()).toEqual(['a4', 'a5', 'a3', 'a6', 'a2'])
    expect(statesOf(4)).toEqual(['queued', 'preprocessing', 'encoding', 'ready'])
    // Prefetched neighbours are now memory hits.
    const r = await scheduler.get(ref(5))
    expect(r.source).toBe('memory')
    expect(nameOf(r.embedding)).toBe('a5.bin')
  })

  it('runs one encoder step at a time', async () => {
    scheduler.setCurrent(ref(4))
    await encoder.started('preprocess:a4.bin')
    await new Promise((r) => setTimeout(r, 30))
    expect(encoder.log).toEqual(['preprocess:a4.bin'])
    encoder.release('preprocess:a4.bin')
    await encoder.started('encode:a4.bin')
    await new Promise((r) => setTimeout(r, 30))
    expect(encoder.log).toEqual(['preprocess:a4.bin', 'encode:a4.bin'])
  })

  it('switching images cancels prefetch that is no longer wanted; the new current image jumps the queue', async () => {
    scheduler.setCurrent(ref(4))
    await pass(4)
    await encoder.started('preprocess:a5.bin') // prefetch a5 has begun; a3, a6, a2 are queued
    scheduler.setCurrent(ref(0)) // wanted now: a1, a2
    await encoder.pass('preprocess:a5.bin')
    // a5 was running: it stops at the step boundary, before its encoder run.
    await encoder.started('preprocess:a0.bin')
    expect(encodes()).toEqual(['a4'])
    await pass(0)
    await pass(1)
    await pass(2)
    await scheduler.idle()
    expect(encodes()).toEqual(['a4', 'a0', 'a1', 'a2'])
    expect(statesOf(5)).toEqual(['queued', 'preprocessing', 'cancelled'])
    for (const i of [3, 6]) expect(statesOf(i)).toEqual(['queued', 'cancelled'])
    // a2 was queued for a4 and is still wanted for a0: kept, not cancelled.
    expect(statesOf(2)).toEqual(['queued', 'preprocessing', 'encoding', 'ready'])
  })

  it('an encoder run in progress is not interrupted by a switch, and its result is kept', async () => {
    scheduler.setCurrent(ref(4))
    await pass(4)
    await encoder.pass('preprocess:a5.bin')
    await encoder.started('encode:a5.bin')
    scheduler.setCurrent(ref(9))
    encoder.release('encode:a5.bin')
    await pass(9)
    encoder.releaseAll()
    await scheduler.idle()
    expect(encodes().slice(0, 3)).toEqual(['a4', 'a5', 'a9'])
    expect((await scheduler.get(ref(5))).source).toBe('memory')
  })

  it('a request goes before queued prefetch, after the running step', async () => {
    scheduler.setCurrent(ref(4))
    await pass(4)
    await encoder.started('preprocess:a5.bin')
    const requested = scheduler.get(ref(8))
    await encoder.pass('preprocess:a5.bin')
    await encoder.pass('encode:a5.bin')
    await pass(8)
    const r = await requested
    expect(r.source).toBe('encoder')
    expect(nameOf(r.embedding)).toBe('a8.bin')
    encoder.releaseAll()
    await scheduler.idle()
    expect(encodes()).toEqual(['a4', 'a5', 'a8', 'a3', 'a6', 'a2'])
  })

  it('a decode that arrives while its image is encoding waits for that encode', async () => {
    scheduler.setCurrent(ref(4))
    await encoder.pass('preprocess:a4.bin')
    await encoder.started('encode:a4.bin')
    const first = scheduler.get(ref(4))
    const second = scheduler.get(ref(4))
    encoder.release('encode:a4.bin')
    const [a, b] = await Promise.all([first, second])
    expect(a.source).toBe('encoder')
    expect(b.embedding).toBe(a.embedding)
    expect(encodes().filter((n) => n === 'a4')).toHaveLength(1)
    expect(a.timings.preprocess).toBe(0) // preprocessing finished before this request came
    expect(a.timings.encode).toBeGreaterThan(0)
  })

  it('a withdrawn request is dropped from the queue and never encoded', async () => {
    scheduler.setCurrent(ref(4))
    await encoder.started('preprocess:a4.bin')
    const controller = new AbortController()
    const request = scheduler.get(ref(8), { signal: controller.signal })
    // a8's lookup misses and it queues: wait for that, not for a guess of how long it takes.
    while (!statesOf(8).includes('queued')) await new Promise((r) => setTimeout(r, 5))
    controller.abort()
    await expect(request).rejects.toBeInstanceOf(CancelledError)
    encoder.releaseAll()
    await scheduler.idle()
    expect(encodes()).not.toContain('a8')
    expect(statesOf(8)).toEqual(['queued', 'cancelled'])
  })

  it('reports a failure to whoever waits, and the queue goes on', async () => {
    encoder.gated = false
    const missing = { file: join(folder.dir, 'gone.bin'), id: 99 }
    await expect(scheduler.get(missing)).rejects.toThrow(/gone\.bin: file not found/)
    expect(events.some((e) => e.type === 'state' && e.state === 'failed' && e.image.id === 99)).toBe(true)
    expect((await scheduler.get(ref(1))).source).toBe('encoder')
  })

  it('emits queue events a UI can show', async () => {
    scheduler.setCurrent(ref(4))
    await pass(4)
    const queue = events.filter((e) => e.type === 'queue')
    expect(queue.length).toBeGreaterThan(0)
    expect(queue.some((e) => e.type === 'queue' && e.queued === 4 && e.current?.id === 4)).toBe(true)
  })

  it("the current image's disk hit does not wait for a prefetch encode in progress", async () => {
    const cache = new EmbeddingCache(join(folder.dir, 'cache'))
    const seeded = new EmbeddingScheduler(cache, encoder, { prefetch: 0 })
    const seeding = seeded.get(ref(9))
    await pass(9)
    await seeding
    await seeded.close() // flushes the disk write
    cache.memory.clear()

    const disk = new EmbeddingScheduler(cache, encoder, { prefetch: 1 })
    disk.setOrder(files.map((_, i) => ref(i)))
    disk.setCurrent(ref(4))
    await pass(4)
    await encoder.pass('preprocess:a5.bin')
    await encoder.started('encode:a5.bin') // the encoder is busy with a neighbour
    disk.setCurrent(ref(9))
    const r = await disk.get(ref(9))
    expect(r.source).toBe('disk')
    expect(nameOf(r.embedding)).toBe('a9.bin')
    expect(encodes()).toEqual(['a9', 'a4', 'a5'])
    encoder.releaseAll()
    await disk.close()
  })
})

// The current image's lookup holds prefetch back (a miss must find the encoder free); whatever
// the lookup finds, the neighbours queued behind it must start once it is done.
describe('prefetch after a hit on the current image', () => {
  beforeEach(() => {
    encoder.gated = false
  })

  it('goes on after a memory hit', async () => {
    await scheduler.get(ref(4)) // a request, not the current image: no prefetch yet
    expect(encodes()).toEqual(['a4'])
    scheduler.setCurrent(ref(4))
    await within(scheduler.idle(), 'neighbours of a4')
    expect(statesOf(4).at(-1)).toBe('ready')
    expect(events.some((e) => e.type === 'state' && e.image.id === 4 && e.source === 'memory')).toBe(true)
    expect(encodes()).toEqual(['a4', 'a5', 'a3', 'a6', 'a2'])
  })

  it('goes on after a disk hit (a project whose first image is cached)', async () => {
    const cache = await diskCacheWith(0)
    const disk = new EmbeddingScheduler(cache, encoder, { prefetch: 2 })
    try {
      disk.on((e) => events.push(e))
      disk.setOrder(files.map((_, i) => ref(i)))
      disk.setCurrent(ref(0))
      await within(disk.idle(), 'neighbours of a0')
      expect(events.some((e) => e.type === 'state' && e.image.id === 0 && e.source === 'disk')).toBe(true)
      expect(encodes()).toEqual(['a1', 'a2'])
      for (const i of [1, 2]) expect(statesOf(i)).toEqual(['queued', 'reading', 'preprocessing', 'encoding', 'ready'])
    } finally {
      await disk.close()
    }
  })

  it('goes on when the current image joins a request whose lookup then hits', async () => {
    const cache = await diskCacheWith(0)
    const disk = new EmbeddingScheduler(cache, encoder, { prefetch: 2 })
    try {
      disk.setOrder(files.map((_, i) => ref(i)))
      const requested = disk.get(ref(0))
      disk.setCurrent(ref(0)) // joins the request's lookup, still under way
      expect((await requested).source).toBe('disk')
      await within(disk.idle(), 'neighbours of a0')
      expect(encodes()).toEqual(['a1', 'a2'])
    } finally {
      await disk.close()
    }
  })
})
