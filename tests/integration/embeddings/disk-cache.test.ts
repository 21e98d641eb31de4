// The disk cache's mechanics on small embeddings: exact round trips, damaged entries detected
// and deleted (never served), atomic writes, the size bound with least-recently-used eviction,
// and the index eviction works from (no look at every entry per write; other processes).

import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { closeSync, futimesSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  DiskCache,
  entryName,
  fromFloat16,
  toFloat16,
  type DiskCacheEvent,
  type EntryExpectation,
  type EntryKey,
} from '../../../src-main/core/embeddings/index.ts'
import type { Embedding } from '../../../src-main/core/segment/prompt.ts'
import { tempFolder } from '../../helpers/project-fixtures.ts'

let folder: { dir: string; cleanup: () => void }
let dir: string

beforeEach(() => {
  folder = tempFolder('sam-disk-')
  dir = join(folder.dir, 'embeddings')
})
afterEach(() => folder.cleanup())

function tiny(seed: number, n = 1000): Embedding {
  const make = (k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + k * 100 + i) * 3.7)
  return {
    modelId: 'm',
    width: 640 + seed,
    height: 480,
    imageEmbed: make(0),
    highResFeats0: make(1),
    highResFeats1: make(2),
  }
}

const key = (i: number): EntryKey => ({ contentHash: `${i}`.padStart(64, '0'), modelKey: 'm@1', preprocess: 1 })
/** What a lookup of tiny(i, n) knows without its entry: the model, the image size, the tensor sizes. */
const expectOf = (i: number, n = 1000): EntryExpectation => ({
  modelId: 'm',
  width: 640 + i,
  height: 480,
  lengths: [n, n, n],
})

function expectSame(a: Embedding, b: Embedding): void {
  expect(a.modelId).toBe(b.modelId)
  expect([a.width, a.height]).toEqual([b.width, b.height])
  for (const t of ['imageEmbed', 'highResFeats0', 'highResFeats1'] as const) {
    expect(a[t]).toBeInstanceOf(Float32Array)
    expect(
      Buffer.from(a[t].buffer, a[t].byteOffset, a[t].byteLength).equals(
        Buffer.from(b[t].buffer, b[t].byteOffset, b[t].byteLength),
      ),
    ).toBe(true)
  }
}

function halved(e: Embedding): Embedding {
  const h = (a: Float32Array) => fromFloat16(toFloat16(a))
  return { ...e, imageEmbed: h(e.imageEmbed), highResFeats0: h(e.highResFeats0), highResFeats1: h(e.highResFeats1) }
}

describe('disk cache', () => {
  it('returns bit-identical tensors with float32 storage', async () => {
    const cache = new DiskCache(dir, { dtype: 'float32' })
    const e = tiny(1)
    expect(await cache.put(key(1), e)).toBe(true)
    expectSame((await new DiskCache(dir).get(key(1), expectOf(1)))!, e)
  })

  it('stores float16 by default: half the bytes, values rounded to the nearest half', async () => {
    const e = tiny(2, 20_000)
    await new DiskCache(dir).put(key(2), e)
    await new DiskCache(join(folder.dir, 'f32'), { dtype: 'float32' }).put(key(2), e)
    const size16 = statSync(join(dir, entryName(key(2)))).size
    const size32 = statSync(join(folder.dir, 'f32', entryName(key(2)))).size
    expect(size16).toBeLessThan(size32 * 0.51)
    expectSame((await new DiskCache(dir).get(key(2), expectOf(2, 20_000)))!, halved(e))
  })

  it('misses for another image, model or preprocessing version', async () => {
    const cache = new DiskCache(dir)
    await cache.put(key(1), tiny(1))
    expect(await cache.get(key(2), expectOf(2))).toBeNull()
    expect(await cache.get({ ...key(1), modelKey: 'm@2' }, expectOf(1))).toBeNull()
    expect(await cache.get({ ...key(1), preprocess: 2 }, expectOf(1))).toBeNull()
    expect(await cache.get(key(1), expectOf(1))).not.toBeNull()
  })

  it('never leaves a partial entry: writes go to a temp file renamed into place', async () => {
    const cache = new DiskCache(dir)
    await Promise.all([1, 2, 3].map((i) => cache.put(key(i), tiny(i))))
    expect(
      readdirSync(dir)
        .filter((n) => n.endsWith('.emb'))
        .sort(),
    ).toEqual([1, 2, 3].map((i) => entryName(key(i))).sort())
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('removes temp files left by a crash once they are old, and never reads them', async () => {
    const cache = new DiskCache(dir)
    await cache.put(key(1), tiny(1))
    const stale = join(dir, `.${entryName(key(2))}.123.abcd.tmp`)
    const fresh = join(dir, `.${entryName(key(3))}.124.abcd.tmp`)
    writeFileSync(stale, readFileSync(join(dir, entryName(key(1)))))
    writeFileSync(fresh, 'half written')
    const old = (Date.now() - 2 * 3600_000) / 1000
    utimesSync(stale, old, old)
    const reopened = new DiskCache(dir)
    expect([...(await reopened.entries()).keys()]).toEqual([entryName(key(1))])
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(fresh)).toBe(true) // may be another process's write in progress
    expect(await reopened.get(key(2), expectOf(2))).toBeNull()
  })

  it('an entry whose sizes disagree with the lookup is a miss, reported once and left for the overwrite', async () => {
    await new DiskCache(dir).put(key(1), tiny(1))
    const file = join(dir, entryName(key(1)))
    const reader = new DiskCache(dir)
    const events: DiskCacheEvent[] = []
    reader.on((e) => events.push(e))
    // The image is really 700x480; the model's tensors really hold 2000 values each.
    expect(await reader.get(key(1), { ...expectOf(1), width: 700 })).toBeNull()
    expect(await reader.get(key(1), { ...expectOf(1), width: 700 })).toBeNull()
    expect(await reader.get(key(1), expectOf(1, 2000))).toBeNull()
    expect(await reader.has(key(1), expectOf(1, 2000))).toBe(false)
    expect(await reader.get(key(1), { ...expectOf(1), modelId: 'other' })).toBeNull()
    expect(events).toEqual([{ type: 'mismatch', file, reason: expect.stringContaining('641x480; it is 700x480') }])
    expect(existsSync(file)).toBe(true)
    expect(await reader.has(key(1), expectOf(1))).toBe(true)
    expect(await reader.get(key(1), expectOf(1))).not.toBeNull()
  })

  it('a file larger than any entry of the model is not read', async () => {
    mkdirSync(dir, { recursive: true })
    const file = join(dir, entryName(key(1)))
    writeFileSync(file, Buffer.alloc(200_000, 1))
    const reader = new DiskCache(dir)
    const events: DiskCacheEvent[] = []
    reader.on((e) => events.push(e))
    expect(await reader.get(key(1), expectOf(1))).toBeNull()
    expect(await reader.has(key(1), expectOf(1))).toBe(false)
    expect(events).toEqual([{ type: 'mismatch', file, reason: expect.stringContaining('larger than any entry') }])
    expect(await reader.put(key(1), tiny(1))).toBe(true) // overwritten
    expect(await reader.get(key(1), expectOf(1))).not.toBeNull()
  })

  it('a folder in place of an entry: a miss, put does not write over it, reported once', async () => {
    const file = join(dir, entryName(key(1)))
    mkdirSync(file, { recursive: true })
    const cache = new DiskCache(dir)
    const events: DiskCacheEvent[] = []
    cache.on((e) => events.push(e))
    expect(await cache.get(key(1), expectOf(1))).toBeNull()
    expect(await cache.has(key(1), expectOf(1))).toBe(false)
    expect(await cache.put(key(1), tiny(1))).toBe(false)
    expect(lstatSync(file).isDirectory()).toBe(true)
    expect(events).toEqual([{ type: 'skipped', file, reason: expect.stringContaining('a folder') }])
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  describe('damaged entries are detected, deleted and reported', () => {
    const damage: [string, (file: string) => void][] = [
      ['a flipped bit in the tensors', (f) => flip(f, statSync(f).size - 100)],
      [
        'a flipped bit in the header (the width)',
        (f) => {
          const buf = readFileSync(f)
          const at = buf.indexOf('"width":641') + '"width":6'.length
          buf[at] = '5'.charCodeAt(0)
          writeFileSync(f, buf)
        },
      ],
      ['a flipped bit in the checksum', (f) => flip(f, 20)],
      ['truncation', (f) => truncateSync(f, statSync(f).size - 1)],
      ['truncation to the header', (f) => truncateSync(f, 60)],
      ['an empty file', (f) => truncateSync(f, 0)],
      ['extra bytes', (f) => writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from([0, 0, 0, 0])]))],
      ['garbage', (f) => writeFileSync(f, Buffer.alloc(5000, 7))],
    ]
    function flip(file: string, at: number): void {
      const buf = readFileSync(file)
      buf[at] ^= 0x10
      writeFileSync(file, buf)
    }
    for (const [what, doDamage] of damage) {
      it(what, async () => {
        const cache = new DiskCache(dir)
        await cache.put(key(1), tiny(1))
        const file = join(dir, entryName(key(1)))
        doDamage(file)
        const events: DiskCacheEvent[] = []
        const reader = new DiskCache(dir)
        reader.on((e) => events.push(e))
        expect(await reader.get(key(1), expectOf(1))).toBeNull()
        expect(existsSync(file)).toBe(false)
        expect(events).toEqual([{ type: 'corrupt', file, reason: expect.any(String) }])
        // Recomputed and stored again, it is served.
        await reader.put(key(1), tiny(1))
        expectSame((await reader.get(key(1), expectOf(1)))!, halved(tiny(1)))
      })
    }
  })

  describe('size bound', () => {
    async function entrySize(): Promise<number> {
      const probe = new DiskCache(join(folder.dir, 'probe'))
      await probe.put(key(0), tiny(1))
      return statSync(join(folder.dir, 'probe', entryName(key(0)))).size
    }
    /** Puts entry i and dates its last use `age` seconds ago (mtime resolution is not the point here). */
    async function putAged(cache: DiskCache, i: number, age: number): Promise<void> {
      await cache.put(key(i), tiny(i))
      const t = Date.now() / 1000 - age
      utimesSync(join(dir, entryName(key(i))), t, t)
    }

    it('evicts the least recently used entries to stay under the bound', async () => {
      const size = await entrySize()
      const cache = new DiskCache(dir, { maxBytes: Math.floor(size * 3.5) })
      const events: DiskCacheEvent[] = []
      cache.on((e) => events.push(e))
      await putAged(cache, 1, 400)
      await putAged(cache, 2, 300)
      await putAged(cache, 3, 200)
      // Entry 1 is used now: 2 becomes the least recently used.
      await new DiskCache(dir).get(key(1), expectOf(1))
      // The touch is not awaited by get: wait until the file shows it (it was 400 s old).
      const used = join(dir, entryName(key(1)))
      while (Date.now() - statSync(used).mtimeMs > 100_000) await new Promise((r) => setTimeout(r, 5))
      await new DiskCache(dir, { maxBytes: Math.floor(size * 3.5) }).put(key(4), tiny(4))
      const left = readdirSync(dir).filter((n) => n.endsWith('.emb'))
      expect(left.sort()).toEqual([1, 3, 4].map((i) => entryName(key(i))).sort())
      const reopened = new DiskCache(dir)
      expect(await reopened.totalBytes()).toBeLessThanOrEqual(size * 3.5)
      expect(events).toEqual([]) // the eviction was done by the second cache object
    })

    it('keeps evicting until the total fits, and reports each eviction', async () => {
      const size = await entrySize()
      const cache = new DiskCache(dir)
      for (let i = 1; i <= 5; i++) await putAged(cache, i, 100 - i)
      cache.setMaxBytes(Math.floor(size * 2.5))
      const events: DiskCacheEvent[] = []
      cache.on((e) => events.push(e))
      await putAged(cache, 6, 0)
      expect(
        readdirSync(dir)
          .filter((n) => n.endsWith('.emb'))
          .sort(),
      ).toEqual([5, 6].map((i) => entryName(key(i))).sort())
      expect(events.map((e) => e.type)).toEqual(['evicted', 'evicted', 'evicted', 'evicted'])
      expect(await cache.totalBytes()).toBeLessThanOrEqual(size * 2.5)
    })

    it('evicts around a folder and a symlink in place of entries: neither counted, touched nor fatal', async () => {
      const size = await entrySize()
      const outside = join(folder.dir, 'outside.emb')
      writeFileSync(outside, readFileSync(join(folder.dir, 'probe', entryName(key(0)))))
      mkdirSync(join(dir, entryName(key(8))), { recursive: true })
      symlinkSync(outside, join(dir, entryName(key(9))))
      const cache = new DiskCache(dir)
      for (let i = 1; i <= 3; i++) await putAged(cache, i, 100 - i)
      cache.setMaxBytes(Math.floor(size * 2.5))
      const events: DiskCacheEvent[] = []
      const reopened = new DiskCache(dir, { maxBytes: Math.floor(size * 2.5) })
      reopened.on((e) => events.push(e))
      expect(await reopened.put(key(4), tiny(4))).toBe(true)
      expect(events.filter((e) => e.type === 'evicted').map((e) => e.file)).toEqual(
        [1, 2].map((i) => join(dir, entryName(key(i)))),
      )
      expect(
        events
          .filter((e) => e.type === 'skipped')
          .map((e) => e.file)
          .sort(),
      ).toEqual([8, 9].map((i) => join(dir, entryName(key(i)))).sort())
      expect(lstatSync(join(dir, entryName(key(8)))).isDirectory()).toBe(true)
      expect(lstatSync(join(dir, entryName(key(9)))).isSymbolicLink()).toBe(true)
      expect(existsSync(outside)).toBe(true)
      expect(await reopened.totalBytes()).toBe(2 * size)
    })

    it('does not write an entry larger than the whole bound', async () => {
      const cache = new DiskCache(dir, { maxBytes: 1000 })
      expect(await cache.put(key(1), tiny(1))).toBe(false)
      expect(await cache.get(key(1), expectOf(1))).toBeNull()
    })

    it('keeps a bound set with persist for later users of the folder; 2 GiB otherwise', () => {
      expect(new DiskCache(dir).maxBytes).toBe(2 * 1024 ** 3)
      new DiskCache(dir).setMaxBytes(50 * 1024 ** 3, { persist: true })
      expect(new DiskCache(dir).maxBytes).toBe(50 * 1024 ** 3)
      expect(new DiskCache(dir, { maxBytes: 10 }).maxBytes).toBe(10)
    })

    it('canFit counts only entries used before the given time as evictable', async () => {
      const size = await entrySize()
      const cache = new DiskCache(dir, { maxBytes: size * 2 })
      await putAged(cache, 1, 100)
      const since = Date.now() - 10_000
      await putAged(cache, 2, 0)
      const reader = new DiskCache(dir, { maxBytes: size * 2 }) // scans the folder's use times
      expect(await reader.canFit(size, since)).toBe(true) // entry 1 may go
      expect(await reader.canFit(size, Date.now() - 200_000)).toBe(false) // both are protected
    })
  })

  describe('the index eviction works from', () => {
    /** Entry i of `tinyEntries`: a sound entry file, 10 values per tensor (a few hundred bytes). */
    const small = (i: number) => tiny(i, 10)
    async function smallSize(): Promise<number> {
      const probe = new DiskCache(join(folder.dir, 'probe'))
      await probe.put(key(0), small(0))
      return statSync(join(folder.dir, 'probe', entryName(key(0)))).size
    }
    /**
     * Writes `count` entries straight into the folder (copies of one real entry: eviction reads
     * names, sizes and times only), entry i last used `count - i` seconds before `now`.
     */
    async function fill(count: number, now = Date.now()): Promise<number> {
      const size = await smallSize()
      const bytes = readFileSync(join(folder.dir, 'probe', entryName(key(0))))
      mkdirSync(dir, { recursive: true })
      for (let i = 1; i <= count; i++) {
        const fd = openSync(join(dir, entryName(key(i))), 'w')
        try {
          writeSync(fd, bytes)
          const t = (now - (count - i) * 1000) / 1000 - 60
          futimesSync(fd, t, t)
        } finally {
          closeSync(fd)
        }
      }
      return size
    }
    function memoryFolder(): { dir: string } | null {
      if (!existsSync('/dev/shm')) return null
      try {
        const shm = mkdtempSync(join('/dev/shm', 'sam-disk-'))
        const cleanup = folder.cleanup
        folder.cleanup = () => {
          rmSync(shm, { recursive: true, force: true })
          cleanup()
        }
        return { dir: shm }
      } catch {
        return null
      }
    }
    const onDisk = () => readdirSync(dir).filter((n) => n.endsWith('.emb'))
    const evictedNames = (events: DiskCacheEvent[]) =>
      events.filter((e) => e.type === 'evicted').map((e) => e.file.slice(dir.length + 1))

    it('with 10,000 entries, a write over the bound stats only what it evicts and never lists the folder', async () => {
      // In memory where there is a tmpfs: creating 10,000 files on a busy disk takes seconds.
      const shm = memoryFolder()
      if (shm) dir = join(shm.dir, 'embeddings')
      const count = 10_000
      const size = await fill(count)
      const cache = new DiskCache(dir, { maxBytes: count * size })
      const events: DiskCacheEvent[] = []
      cache.on((e) => events.push(e))
      expect((await cache.entries()).size).toBe(count) // the one scan
      expect(cache.io).toEqual({ listings: 1, stats: count })

      const writes = 20
      for (let i = 0; i < writes; i++) await cache.put(key(count + 1 + i), small(count + 1 + i))
      // The oldest entries went, in order (one or two per write: these new ones are a few bytes
      // larger), each stat'ed once before it was deleted; nothing else was looked at.
      const evicted = evictedNames(events)
      expect(evicted.length).toBeGreaterThanOrEqual(writes)
      expect(evicted.length).toBeLessThanOrEqual(2 * writes)
      expect(evicted).toEqual(Array.from({ length: evicted.length }, (_, i) => entryName(key(i + 1))))
      expect(cache.io).toEqual({ listings: 1, stats: count + evicted.length })
      expect(onDisk()).toHaveLength(count + writes - evicted.length)
      expect(await cache.totalBytes()).toBeLessThanOrEqual(count * size)
    })

    it('an entry used by another process since the scan is kept; one it deleted is passed over', async () => {
      const size = await fill(6)
      const cache = new DiskCache(dir, { maxBytes: 6 * size })
      const events: DiskCacheEvent[] = []
      cache.on((e) => events.push(e))
      await cache.entries()
      // Another process: uses entry 1 (the oldest) now, and evicts entries 2 and 3 itself.
      const now = Date.now() / 1000
      utimesSync(join(dir, entryName(key(1))), now, now)
      unlinkSync(join(dir, entryName(key(2))))
      unlinkSync(join(dir, entryName(key(3))))
      // The index believes 7 entries are there, so one must go: 1 is kept (used since), 2 is
      // gone already, which makes room. 3 is found gone the same way by the next write.
      await cache.put(key(7), small(7))
      await cache.put(key(8), small(8))
      expect(evictedNames(events)).toEqual([])
      await cache.put(key(9), small(9)) // 7 on disk now: 4, the least recently used, goes
      expect(evictedNames(events)).toEqual([entryName(key(4))])
      expect(onDisk().sort()).toEqual([1, 5, 6, 7, 8, 9].map((i) => entryName(key(i))).sort())
      expect(events.filter((e) => e.type !== 'evicted')).toEqual([])
    })

    it('two caches writing one folder (the app and a CLI) stay near the bound and learn of each other', async () => {
      const size = await smallSize()
      const app = new DiskCache(dir, { maxBytes: 4 * size })
      const cli = new DiskCache(dir, { maxBytes: 4 * size })
      for (let i = 1; i <= 20; i++) {
        await (i % 2 ? app : cli).put(key(i), small(i))
        // Each evicts only what it knows: at most the bound each, with entries deleted by the
        // other one (vanished) passed over without complaint.
        expect(onDisk().length).toBeLessThanOrEqual(8)
      }
      // The app's periodic rescan (forced here) brings in the CLI's entries, and evicts by them.
      await app.entries(true)
      await app.put(key(21), small(21))
      expect(onDisk().length).toBeLessThanOrEqual(4)
      expect(onDisk()).toContain(entryName(key(21)))
      expect(await new DiskCache(dir).totalBytes()).toBeLessThanOrEqual(4 * size)
    })

    it('the folder is scanned again after as many writes as the index held (at least 256)', async () => {
      await fill(3)
      const cache = new DiskCache(dir)
      await cache.entries()
      // Another process adds an entry this cache has not seen.
      const other = new DiskCache(dir)
      await other.put(key(500), small(500))
      for (let i = 0; i < 255; i++) await cache.put(key(1000 + i), small(1000 + i))
      expect(cache.io.listings).toBe(1)
      expect((await cache.entries()).has(entryName(key(500)))).toBe(false)
      await cache.put(key(2000), small(2000))
      expect(cache.io.listings).toBe(2)
      expect((await cache.entries()).has(entryName(key(500)))).toBe(true)
    })

    it('a hit on an entry another process wrote adds it to the index, as just used', async () => {
      const size = await fill(2)
      const cache = new DiskCache(dir, { maxBytes: 3 * size })
      await cache.entries()
      await new DiskCache(dir).put(key(3), small(3))
      expect(await cache.get(key(3), expectOf(3, 10))).not.toBeNull()
      expect([...(await cache.entries()).keys()]).toEqual([1, 2, 3].map((i) => entryName(key(i))))
      await cache.put(key(4), small(4)) // over the bound: 1, the oldest, goes; not 3
      expect(onDisk().sort()).toEqual([2, 3, 4].map((i) => entryName(key(i))).sort())
    })
  })
})
