// `embed <folder>`: precomputes a project's embeddings into its disk cache; --limit takes the
// first N not yet cached; an interrupted run continues where it stopped.

import { readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embedCommand } from '../../../src-main/cli/embed-command.ts'
import { EmbeddingCache, engineEncoder, precomputeEmbeddings } from '../../../src-main/core/embeddings/index.ts'
import { Engine } from '../../../src-main/core/segment/engine.ts'
import { imageBytes, tempFolder, writeFile } from '../../helpers/project-fixtures.ts'

const DEMO = resolve(import.meta.dirname, '..', '..', '..', 'models', 'demo')
let folder: { dir: string; cleanup: () => void }

beforeAll(() => {
  folder = tempFolder('sam-embed-')
})
afterAll(() => folder.cleanup())

async function makeProject(name: string, n: number): Promise<string> {
  const root = join(folder.dir, name)
  for (let i = 0; i < n; i++) writeFile(root, `img${i}.png`, await imageBytes('png', 64, 48, i + 1))
  writeFile(root, 'broken.png', Buffer.from('not an image'))
  return root
}

async function embed(args: string[]): Promise<{ json: Record<string, unknown>; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  await embedCommand([...args, '--model', DEMO, '--json'], { out: (s) => out.push(s), err: (s) => err.push(s) })
  expect(out).toHaveLength(1)
  return { json: JSON.parse(out[0]) as Record<string, unknown>, err }
}

const entries = (root: string) =>
  readdirSync(join(root, '.sam-annotator', 'embeddings'))
    .filter((n) => n.endsWith('.emb'))
    .sort()

describe('embed command', () => {
  it('--limit encodes the first N not yet cached; the next run continues; a third has nothing to do', async () => {
    const root = await makeProject('limit', 4)
    const first = await embed([root, '--limit', '2'])
    expect(first.json).toMatchObject({
      images: 4,
      alreadyCached: 0,
      encoded: 2,
      stopped: 'limit',
      remaining: 2,
      dtype: 'float16',
      model: 'demo',
    })
    const firstEntries = entries(root)
    expect(firstEntries).toHaveLength(2)
    const inodes = firstEntries.map((n) => statSync(join(root, '.sam-annotator', 'embeddings', n)).ino)

    const second = await embed([root])
    expect(second.json).toMatchObject({ images: 4, alreadyCached: 2, encoded: 2, stopped: 'done', remaining: 0 })
    expect(entries(root)).toHaveLength(4)
    // The first run's entries were kept, not rewritten.
    expect(firstEntries.map((n) => statSync(join(root, '.sam-annotator', 'embeddings', n)).ino)).toEqual(inodes)

    const third = await embed([root])
    expect(third.json).toMatchObject({ alreadyCached: 4, encoded: 0, remaining: 0 })
  })

  it('an interrupted run stops after the image in progress; run again, it continues', async () => {
    const root = await makeProject('interrupt', 4)
    const engine = await Engine.open({ modelDir: DEMO })
    try {
      const cache = new EmbeddingCache(join(root, '.sam-annotator', 'embeddings'), { memory: { maxEntries: 0 } })
      const encoder = await engineEncoder(engine, cache.hasher)
      const images = [0, 1, 2, 3].map((i) => ({ file: join(root, `img${i}.png`), label: `img${i}.png` }))
      const controller = new AbortController()
      const stopped = await precomputeEmbeddings(images, cache, encoder, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'encoding' && p.done === 1) controller.abort() // Ctrl-C during the second image
        },
      })
      expect(stopped).toMatchObject({ encoded: 1, stopped: 'interrupted', remaining: 3 })
      expect(entries(root)).toHaveLength(1)

      const resumed = await precomputeEmbeddings(images, cache, encoder)
      expect(resumed).toMatchObject({ alreadyCached: 1, encoded: 3, stopped: 'done', remaining: 0 })
    } finally {
      await engine.close()
    }
  })

  it('skips images the scan found unreadable; --float32 and --max-size are kept', async () => {
    const root = await makeProject('options', 2)
    const run = await embed([root, '--float32', '--max-size', '0.5'])
    expect(run.json).toMatchObject({ encoded: 2, dtype: 'float32' })
    // broken.png is marked unreadable by the scan and skipped, so nothing failed here.
    expect(run.json.images).toBe(2)
    expect(new EmbeddingCache(join(root, '.sam-annotator', 'embeddings')).disk?.maxBytes).toBe(
      Math.round(0.5 * 1024 ** 3),
    )
  })

  it('stops at the cache bound instead of evicting its own work', async () => {
    const root = await makeProject('full', 4)
    // The demo model's features are SAM-sized: about 8.4 MB per float16 entry.
    const run = await embed([root, '--max-size', String(20 / 1024)])
    expect(run.json).toMatchObject({ encoded: 2, stopped: 'cache-full', remaining: 2 })
    expect(entries(root)).toHaveLength(2)
  })

  it('refuses bad arguments with one line naming the value', async () => {
    await expect(embedCommand(['x', '--limit', 'abc'], { out: () => {}, err: () => {} })).rejects.toThrow(
      "--limit 'abc'",
    )
    await expect(embedCommand([], { out: () => {}, err: () => {} })).rejects.toThrow(
      'embed: expected exactly one project folder',
    )
  })
})
