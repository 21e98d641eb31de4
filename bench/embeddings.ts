// Measures how soon the user can click after switching images: `benchEmbeddings()` times the
// three cases of issue 4 with the full SAM 2.1 feature set (the demo model's outputs have the
// real sizes: 16.8 MB as float32) on a 12 MP, 12 MB JPEG:
//   (a) the image was prefetched and is in memory,
//   (b) it is in the disk cache (float16; float32 for comparison), memory cold,
//   (c) it is in no cache: content hash, preprocessing and one encoder run.
// "Ready" means the embedding is in hand and a prompt history over it exists (the decoder is
// warmed at engine open). The first decode is timed separately. A section of `npm run bench`.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { Engine } from '../src-main/core/segment/engine.ts'
import { modelsRoot } from '../src-main/core/segment/model.ts'
import { preprocessImage } from '../src-main/core/segment/preprocess.ts'
import { ContentHasher } from '../src-main/core/embeddings/content-hash.ts'
import { openEmbeddings } from '../src-main/core/embeddings/segment-cached.ts'
import type { EmbeddingScheduler, EmbeddingSource } from '../src-main/core/embeddings/scheduler.ts'

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

// `npx tsx bench/embeddings.ts` prints the numbers on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  benchEmbeddings().then((r) => console.log(JSON.stringify(r, null, 2)))
}
