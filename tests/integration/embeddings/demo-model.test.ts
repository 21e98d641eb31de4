// The cache in front of the real encoder (demo model, real onnxruntime, real files): where an
// embedding comes from, that hits are identical to a fresh encode, that a changed image or
// model misses, that a damaged entry is recomputed and never served, that float16 storage
// leaves the masks as they were, and the cached segment path the CLI uses.

import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ContentHasher,
  EmbeddingCache,
  EmbeddingScheduler,
  embeddingsDirForImage,
  engineEncoder,
  entryName,
  fromFloat16,
  getEmbedding,
  modelKeyOf,
  openEmbeddings,
  PREPROCESS_VERSION,
  segmentCached,
  toFloat16,
  type EmbeddingSource,
  type SchedulerEvent,
} from '../../../src-main/core/embeddings/index.ts'
import { LOW_RES_SIZE } from '../../../src-main/core/segment/model-interface.ts'
import { Engine } from '../../../src-main/core/segment/engine.ts'
import { referenceMask } from '../../helpers/reference-mask.ts'
import type { Embedding } from '../../../src-main/core/segment/prompt.ts'
import { Project } from '../../../src-main/core/project/index.ts'
import { drawScene, encoderInput, SINGLE_CLICK_SCENES } from '../../helpers/demo-scenes.ts'
import { tempFolder } from '../../helpers/project-fixtures.ts'

const DEMO = resolve(import.meta.dirname, '..', '..', '..', 'models', 'demo')
let folder: { dir: string; cleanup: () => void }
let engine: Engine

/** An uncompressed TIFF: same byte size for any pixels, so a content change keeps the size. */
async function tiff(colour: { r: number; g: number; b: number }, width = 320, height = 240): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .composite([
      {
        input: { create: { width: 100, height: 80, channels: 3, background: { r: 250, g: 250, b: 250 } } },
        left: 110,
        top: 80,
      },
    ])
    .tiff({ compression: 'none' })
    .toBuffer()
}

beforeAll(async () => {
  folder = tempFolder('sam-emb-demo-')
  engine = await Engine.open({ modelDir: DEMO })
})
afterAll(async () => {
  await engine.close()
  folder.cleanup()
})

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

function expectIdentical(a: Embedding, b: Embedding): void {
  expect([a.modelId, a.width, a.height]).toEqual([b.modelId, b.width, b.height])
  for (const t of ['imageEmbed', 'highResFeats0', 'highResFeats1'] as const)
    expect(bytesOf(a[t]).equals(bytesOf(b[t]))).toBe(true)
}

async function open(
  dir: string,
  options: { dtype?: 'float16' | 'float32'; model?: Engine } = {},
): Promise<EmbeddingScheduler> {
  return openEmbeddings(options.model ?? engine, dir, { prefetch: 0, disk: { dtype: options.dtype } })
}

describe('embeddings with the demo model', () => {
  it('encoder, then memory, then disk (after a restart): hits return the same tensors', async () => {
    const image = join(folder.dir, 'hits', 'a.tif')
    const cacheDir = join(folder.dir, 'hits', 'cache')
    mkdirSync(join(folder.dir, 'hits'))
    writeFileSync(image, await tiff({ r: 200, g: 40, b: 30 }))
    const fresh = (await engine.encode(image)).embedding

    const first = await open(cacheDir, { dtype: 'float32' })
    const a = await getEmbedding(first, image)
    expect(a.source).toBe('encoder')
    expect(a.timings.preprocess).toBeGreaterThan(0)
    expectIdentical(a.embedding, fresh)
    const b = await getEmbedding(first, image)
    expect(b.source).toBe('memory')
    expect(b.embedding).toBe(a.embedding)
    expect(b.timings.preprocess).toBe(0)
    await first.close()

    const second = await open(cacheDir)
    const c = await getEmbedding(second, image)
    expect(c.source).toBe('disk')
    expectIdentical(c.embedding, fresh) // stored as float32: bit-identical
    await second.close()
  })

  it('float16 storage holds exactly the float16 rounding of the features', async () => {
    const image = join(folder.dir, 'f16.tif')
    writeFileSync(image, await tiff({ r: 30, g: 90, b: 200 }))
    const cacheDir = join(folder.dir, 'f16-cache')
    const fresh = (await engine.encode(image)).embedding
    const s1 = await open(cacheDir)
    await getEmbedding(s1, image)
    await s1.close()
    const s2 = await open(cacheDir)
    const hit = await getEmbedding(s2, image)
    expect(hit.source).toBe('disk')
    for (const t of ['imageEmbed', 'highResFeats0', 'highResFeats1'] as const) {
      expect(bytesOf(hit.embedding[t]).equals(bytesOf(fromFloat16(toFloat16(fresh[t]))))).toBe(true)
    }
    await s2.close()
  })

  it('a changed image misses, even with its size and modification time restored', async () => {
    const image = join(folder.dir, 'changed.tif')
    const cacheDir = join(folder.dir, 'changed-cache')
    writeFileSync(image, await tiff({ r: 200, g: 40, b: 30 }))
    const stamp = 1_700_000_000 // whole seconds: restored exactly
    utimesSync(image, stamp, stamp)
    const s1 = await open(cacheDir)
    const before = await getEmbedding(s1, image)
    await s1.close()
    const st = statSync(image)
    const changed = await tiff({ r: 20, g: 200, b: 30 })
    expect(changed.length).toBe(st.size)
    writeFileSync(image, changed)
    utimesSync(image, stamp, stamp)
    expect(statSync(image).mtimeMs).toBe(st.mtimeMs)

    const s2 = await open(cacheDir)
    const after = await getEmbedding(s2, image)
    expect(after.source).toBe('encoder')
    expectIdentical(after.embedding, (await engine.encode(image)).embedding)
    expect(bytesOf(after.embedding.imageEmbed).equals(bytesOf(before.embedding.imageEmbed))).toBe(false)
    await s2.close()
    // The unchanged content is still cached (a revert hits again).
    writeFileSync(image, await tiff({ r: 200, g: 40, b: 30 }))
    const s3 = await open(cacheDir)
    expect((await getEmbedding(s3, image)).source).toBe('disk')
    await s3.close()
  })

  it('another model misses: another id, or the same id with other encoder weights', async () => {
    const image = join(folder.dir, 'model.tif')
    const cacheDir = join(folder.dir, 'model-cache')
    writeFileSync(image, await tiff({ r: 120, g: 120, b: 30 }))
    const s1 = await open(cacheDir)
    await getEmbedding(s1, image)
    await s1.close()

    const otherDir = join(folder.dir, 'demo-other')
    cpSync(DEMO, otherDir, { recursive: true })
    writeFileSync(
      join(otherDir, 'config.json'),
      JSON.stringify({ ...JSON.parse(readFileSync(join(DEMO, 'config.json'), 'utf8')), id: 'demo-other' }),
    )
    const other = await Engine.open({ modelDir: otherDir })
    try {
      const s2 = await open(cacheDir, { model: other })
      const r = await getEmbedding(s2, image)
      expect(r.source).toBe('encoder')
      expect(r.embedding.modelId).toBe('demo-other')
      await s2.close()
    } finally {
      await other.close()
    }
    // Same id, different weights (a re-export): the key changes.
    const hasher = new ContentHasher(null)
    const sameId = join(folder.dir, 'demo-reexport')
    cpSync(DEMO, sameId, { recursive: true })
    const keyBefore = await modelKeyOf({ id: 'demo', dir: sameId }, hasher)
    expect(keyBefore).toBe(await modelKeyOf({ id: 'demo', dir: DEMO }, hasher))
    writeFileSync(
      join(sameId, 'encoder.onnx'),
      Buffer.concat([readFileSync(join(sameId, 'encoder.onnx')), Buffer.from([0])]),
    )
    expect(await modelKeyOf({ id: 'demo', dir: sameId }, hasher)).not.toBe(keyBefore)
  })

  it('a damaged entry is detected, deleted, recomputed and never served', async () => {
    const image = join(folder.dir, 'corrupt.tif')
    const cacheDir = join(folder.dir, 'corrupt-cache')
    writeFileSync(image, await tiff({ r: 90, g: 20, b: 160 }))
    const s1 = await open(cacheDir, { dtype: 'float32' })
    const good = await getEmbedding(s1, image)
    await s1.close()
    const cache = new EmbeddingCache(cacheDir)
    const file = join(cacheDir, entryName(await cache.keyOf(image, s1.encoder.modelKey)))
    const buf = readFileSync(file)
    buf[buf.length - 1000] ^= 0x01 // one bit of one feature
    writeFileSync(file, buf)

    const s2 = await open(cacheDir, { dtype: 'float32' })
    const events: SchedulerEvent[] = []
    s2.on((e) => events.push(e))
    const r = await getEmbedding(s2, image)
    expect(r.source).toBe('encoder')
    expectIdentical(r.embedding, good.embedding)
    expect(events.some((e) => e.type === 'cache' && e.event.type === 'corrupt' && e.event.file === file)).toBe(true)
    await s2.close() // the recomputed entry is written again
    const s3 = await open(cacheDir)
    const again = await getEmbedding(s3, image)
    expect(again.source).toBe('disk')
    expectIdentical(again.embedding, good.embedding)
    await s3.close()
  })

  it('float16 storage changes the demo model masks by less than 1% IoU', async () => {
    const scenes = SINGLE_CLICK_SCENES.filter((s) => ['circle', 'ring with a hole'].includes(s.name))
    expect(scenes).toHaveLength(2)
    for (const spec of scenes) {
      const scene = await drawScene(spec)
      const full = await engine.encodeTensor(await encoderInput(scene), scene.width, scene.height)
      const h = (a: Float32Array) => fromFloat16(toFloat16(a))
      const half: Embedding = {
        ...full,
        imageEmbed: h(full.imageEmbed),
        highResFeats0: h(full.highResFeats0),
        highResFeats1: h(full.highResFeats1),
      }
      const prompt = { points: [{ x: scene.click[0] + 0.5, y: scene.click[1] + 0.5, label: 1 as const }] }
      const a = await engine.prompt(full).decode(prompt)
      const b = await engine.prompt(half).decode(prompt)
      const ma = referenceMask(a.logits[a.chosen], LOW_RES_SIZE, LOW_RES_SIZE, scene.width, scene.height)
      const mb = referenceMask(b.logits[b.chosen], LOW_RES_SIZE, LOW_RES_SIZE, scene.width, scene.height)
      let inter = 0
      let union = 0
      for (let i = 0; i < ma.length; i++) {
        inter += ma[i] & mb[i]
        union += ma[i] | mb[i]
      }
      expect(union, spec.name).toBeGreaterThan(1000) // a real object, not an empty mask
      expect(inter / union, spec.name).toBeGreaterThan(0.99)
      expect(b.chosen, spec.name).toBe(a.chosen)
    }
  })

  it('segmentCached matches engine.segment and says where the embedding came from', async () => {
    const project = join(folder.dir, 'project')
    const image = join(project, 'sub', 'p.tif')
    mkdirSync(join(project, 'sub'), { recursive: true })
    writeFileSync(image, await tiff({ r: 40, g: 40, b: 200 }))
    const p = Project.open(project)
    p.close()
    const dir = embeddingsDirForImage(image)
    expect(dir).toBe(join(project, '.sam-annotator', 'embeddings'))
    expect(embeddingsDirForImage(join(folder.dir, 'model.tif'))).toBeNull()

    const prompt = { points: [{ x: 160, y: 120, label: 1 as const }] }
    const plain = await engine.segment(image, prompt)
    const sources: EmbeddingSource[] = []
    for (let run = 0; run < 2; run++) {
      const embeddings = await open(dir as string)
      for (let i = 0; i < 2; i++) {
        const r = await segmentCached(engine, embeddings, image, prompt)
        sources.push(r.embedding)
        expect(r.segmentation).toEqual(plain.segmentation)
        expect([r.bbox, r.area, r.candidate]).toEqual([plain.bbox, plain.area, plain.candidate])
        expect(Object.keys(r.timings).sort()).toEqual(['decode', 'encode', 'postprocess', 'preprocess'])
        if (r.embedding !== 'encoder') expect(r.timings.preprocess).toBe(0)
      }
      await embeddings.close()
    }
    expect(sources).toEqual(['encoder', 'memory', 'disk', 'memory'])
  })

  it('keys entries by content hash, model key and PREPROCESS_VERSION', async () => {
    const image = join(folder.dir, 'key.tif')
    writeFileSync(image, await tiff({ r: 1, g: 2, b: 3 }))
    const cache = new EmbeddingCache(join(folder.dir, 'key-cache'))
    const encoder = await engineEncoder(engine, cache.hasher)
    const key = await cache.keyOf(image, encoder.modelKey)
    expect(key).toEqual({
      contentHash: createHash('sha256').update(readFileSync(image)).digest('hex'),
      modelKey: encoder.modelKey,
      preprocess: PREPROCESS_VERSION,
    })
    expect(encoder.modelKey.startsWith('demo@')).toBe(true)
  })
})
