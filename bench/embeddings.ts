// Measures how soon the user can click after switching images: `benchEmbeddings()` times the
// three cases of issue 4 with the full SAM 2.1 feature set (the demo model's outputs have the
// real sizes: 16.8 MB as float32) on a 12 MP, 12 MB JPEG:
//   (a) the image was prefetched and is in memory,
//   (b) it is in the disk cache (float16; float32 for comparison), memory cold,
//   (c) it is in no cache: content hash, preprocessing and one encoder run.
// "Ready" means the embedding is in hand and a prompt history over it exists (the decoder is
// warmed at engine open). The first decode is timed separately. `benchDiskEviction(counts)`
// times a write to a full disk cache of that many (small) entries, which must evict: the same
// cost whatever the count. A section of `npm run bench`.

import {
  closeSync,
  futimesSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import sharp from 'sharp'
import { Engine } from '../src-main/core/segment/engine.ts'
import { modelsRoot } from '../src-main/core/segment/model.ts'
import { preprocessImage } from '../src-main/core/segment/preprocess.ts'
import { ContentHasher } from '../src-main/core/embeddings/content-hash.ts'
import { DiskCache, entryName } from '../src-main/core/embeddings/disk-cache.ts'
import type { EntryKey } from '../src-main/core/embeddings/entry-file.ts'
import { openEmbeddings } from '../src-main/core/embeddings/segment-cached.ts'
import type { EmbeddingScheduler, EmbeddingSource } from '../src-main/core/embeddings/scheduler.ts'
import type { Embedding } from '../src-main/core/segment/prompt.ts'

export interface EmbeddingsBench {
  model: string
  image: { width: number; height: number; bytes: number }
  /** Bytes of one disk entry. */
  entryBytes: { float16: number; float32: number }
  /** Medians, milliseconds from the switch until a prompt history exists. */
  memoryMs: number
  diskMs: number
  diskFloat32Ms: number
  uncachedMs: number
  /** (c) taken apart, measured directly (medians): what an uncached switch cannot avoid. */
  uncachedParts: { hashMs: number; preprocessMs: number; encodeMs: number }
  /** Median first decode (one positive point) after the switch. */
  firstDecodeMs: number
  runs: { memory: number; disk: number; uncached: number }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** A 4000x3000 JPEG of smooth colour plus noise: about 12 MB, like a phone photo at quality 95. */
async function photo(): Promise<Buffer> {
  const width = 4000
  const height = 3000
  const raw = Buffer.alloc(width * height * 3)
  let s = 7
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) >>> 0
      const n = (s >>> 24) - 128
      raw[i++] = Math.max(0, Math.min(255, (x * 255) / width + n))
      raw[i++] = Math.max(0, Math.min(255, (y * 255) / height + n))
      raw[i++] = Math.max(0, Math.min(255, 128 + n))
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer()
}

async function timeSwitch(
  engine: Engine,
  embeddings: EmbeddingScheduler,
  file: string,
  expected: EmbeddingSource,
): Promise<{ ready: number; decode: number }> {
  const t0 = performance.now()
  const { embedding, source } = await embeddings.get({ file })
  const session = engine.prompt(embedding)
  const t1 = performance.now()
  if (source !== expected) throw new Error(`bench: expected a ${expected} hit for ${file}, got ${source}`)
  await session.decode({ points: [{ x: embedding.width / 2, y: embedding.height / 2, label: 1 }] })
  return { ready: t1 - t0, decode: performance.now() - t1 }
}

export async function benchEmbeddings(
  options: { runs?: number; uncachedRuns?: number; modelDir?: string; dir?: string } = {},
): Promise<EmbeddingsBench> {
  const runs = options.runs ?? 15
  const uncachedRuns = options.uncachedRuns ?? 3
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-embeddings-'))
  // The demo model by default: its encoder is fast, and its outputs are exactly SAM 2.1's.
  const engine = await Engine.open({ modelDir: options.modelDir ?? join(modelsRoot(), 'demo') })
  try {
    const jpeg = await photo()
    // Distinct files (a different trailer after the JPEG's end) so each uncached run hashes and
    // encodes an image no cache has seen.
    const files = Array.from({ length: uncachedRuns + 1 }, (_, i) => {
      const file = join(root, `photo${i}.jpg`)
      writeFileSync(file, Buffer.concat([jpeg, Buffer.from(`run ${i}`)]))
      return file
    })
    const [main, ...fresh] = files
    const meta = await sharp(main).metadata()

    // (c) uncached, and its parts measured directly.
    const hot = await openEmbeddings(engine, join(root, 'cache16'))
    const uncached: number[] = []
    const decodes: number[] = []
    for (const file of fresh) {
      const t = await timeSwitch(engine, hot, file, 'encoder')
      uncached.push(t.ready)
      decodes.push(t.decode)
      await hot.cache.flush() // the entry write must not spill into the next run's timing
    }
    const parts = { hash: [] as number[], preprocess: [] as number[], encode: [] as number[] }
    for (const file of fresh) {
      let t = performance.now()
      await new ContentHasher(null).hash(file)
      parts.hash.push(performance.now() - t)
      t = performance.now()
      const prepared = await preprocessImage(file)
      parts.preprocess.push(performance.now() - t)
      t = performance.now()
      await engine.encodeTensor(prepared.tensor, prepared.width, prepared.height)
      parts.encode.push(performance.now() - t)
    }

    // Fill the disk caches (float16 and float32) with the main image.
    await hot.get({ file: main })
    const cold32 = await openEmbeddings(engine, join(root, 'cache32'), { disk: { dtype: 'float32' } })
    await cold32.get({ file: main })
    await Promise.all([hot.cache.flush(), cold32.cache.flush()])

    // (a) memory: the main image was just encoded and is held in memory, as after a prefetch.
    const memory: number[] = []
    for (let i = 0; i < runs; i++) {
      const t = await timeSwitch(engine, hot, main, 'memory')
      memory.push(t.ready)
      decodes.push(t.decode)
    }

    // (b) disk: memory emptied before each switch; the content hash is remembered, as it is
    // for any image the app has seen before.
    const disk: number[] = []
    const disk32: number[] = []
    for (let i = 0; i < runs; i++) {
      hot.cache.memory.clear()
      disk.push((await timeSwitch(engine, hot, main, 'disk')).ready)
      cold32.cache.memory.clear()
      disk32.push((await timeSwitch(engine, cold32, main, 'disk')).ready)
    }
    const entrySize = async (s: EmbeddingScheduler) => (await s.cache.disk?.totalBytes()) ?? 0
    const float32Bytes = await entrySize(cold32)
    const float16Bytes = (await entrySize(hot)) / (uncachedRuns + 1)
    await Promise.all([hot.close(), cold32.close()])
    return {
      model: engine.info.id,
      image: { width: meta.width ?? 0, height: meta.height ?? 0, bytes: jpeg.length },
      entryBytes: { float16: Math.round(float16Bytes), float32: float32Bytes },
      memoryMs: median(memory),
      diskMs: median(disk),
      diskFloat32Ms: median(disk32),
      uncachedMs: median(uncached),
      uncachedParts: {
        hashMs: median(parts.hash),
        preprocessMs: median(parts.preprocess),
        encodeMs: median(parts.encode),
      },
      firstDecodeMs: median(decodes),
      runs: { memory: runs, disk: runs, uncached: uncachedRuns },
    }
  } finally {
    await engine.close()
    rmSync(root, { recursive: true, force: true })
  }
}

export interface EvictionBench {
  entries: number
  /** The first scan (building the index), and the longest the event loop waited meanwhile. */
  scanMs: number
  scanStallMs: number
  /** Median of one put onto the full cache (each evicts the oldest entry or two). */
  putMs: number
  /** The longest the event loop waited during those puts. */
  putStallMs: number
  /** File system stats per put (the entries it evicted, checked before deleting). */
  statsPerPut: number
}

/** A small embedding: the cache's costs here are per entry, not per byte. */
function smallEmbedding(seed: number): Embedding {
  const make = () => Float32Array.from({ length: 64 }, (_, i) => Math.sin(seed + i))
  return { modelId: 'bench', width: 640, height: 480, imageEmbed: make(), highResFeats0: make(), highResFeats1: make() }
}

const benchKey = (i: number): EntryKey => ({
  contentHash: `${i}`.padStart(64, '0'),
  modelKey: 'bench@1',
  preprocess: 1,
})

/**
 * For each count: a cache folder holding that many entries (copies of one small entry, last
 * used a second apart), bounded at exactly their total; the index is built, then `puts` new
 * entries are written one after another, each over the bound.
 */
export async function benchDiskEviction(
  counts: readonly number[],
  options: { puts?: number; dir?: string } = {},
): Promise<EvictionBench[]> {
  const puts = options.puts ?? 40
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-eviction-'))
  try {
    const probeDir = join(root, 'probe')
    await new DiskCache(probeDir).put(benchKey(0), smallEmbedding(0))
    const bytes = readFileSync(join(probeDir, entryName(benchKey(0))))
    const results: EvictionBench[] = []
    for (const count of counts) {
      const dir = join(root, `n${count}`)
      const cache = new DiskCache(dir, { maxBytes: count * bytes.length })
      mkdirSync(dir)
      const now = Date.now() / 1000 - 3600
      for (let i = 1; i <= count; i++) {
        const fd = openSync(join(dir, entryName(benchKey(i))), 'w')
        writeSync(fd, bytes)
        futimesSync(fd, now - (count - i), now - (count - i))
        closeSync(fd)
      }
      const delay = monitorEventLoopDelay({ resolution: 1 })
      delay.enable()
      let t = performance.now()
      await cache.entries()
      const scanMs = performance.now() - t
      delay.disable()
      const scanStallMs = delay.max / 1e6
      delay.reset()
      const statsBefore = cache.io.stats
      const times: number[] = []
      delay.enable()
      // The first writes warm the code up (the 100-entry case runs first): not counted.
      const warmup = 10
      for (let i = 0; i < warmup + puts; i++) {
        t = performance.now()
        await cache.put(benchKey(count + 1 + i), smallEmbedding(count + 1 + i))
        if (i >= warmup) times.push(performance.now() - t)
      }
      delay.disable()
      if (cache.io.listings !== 1) throw new Error(`bench: the cache of ${count} entries listed its folder again`)
      results.push({
        entries: count,
        scanMs,
        scanStallMs,
        putMs: median(times),
        putStallMs: delay.max / 1e6,
        statsPerPut: (cache.io.stats - statsBefore) / (warmup + puts),
      })
      rmSync(dir, { recursive: true, force: true })
    }
    return results
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

// `npx tsx bench/embeddings.ts` prints the numbers on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  benchEmbeddings().then((r) => console.log(JSON.stringify(r, null, 2)))
}
