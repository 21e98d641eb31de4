// A shipped cache folder is not trusted (demo model, real files): an entry re-signed with a
// valid checksum but claiming another image size, image content or model is a miss, encoded
// again and overwritten; a folder, symlink or FIFO in an entry's place is skipped, reported once
// per run and left alone, and `embed` finishes with 0 every time.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { embedCommand } from '../../../src-main/cli/embed-command.ts'
import {
  ContentHasher,
  entryName,
  getEmbedding,
  modelKeyOf,
  openEmbeddings,
  PREPROCESS_VERSION,
  segmentCached,
  type EntryKey,
  type SchedulerEvent,
} from '../../../src-main/core/embeddings/index.ts'
import { Engine } from '../../../src-main/core/segment/engine.ts'
import { imageBytes, tempFolder, writeFile } from '../../helpers/project-fixtures.ts'

const DEMO = resolve(import.meta.dirname, '..', '..', '..', 'models', 'demo')
const W = 64
const H = 48
let folder: { dir: string; cleanup: () => void }
let engine: Engine
let modelKey: string

beforeAll(async () => {
  folder = tempFolder('sam-shipped-')
  engine = await Engine.open({ modelDir: DEMO })
  modelKey = await modelKeyOf(engine.info, new ContentHasher(null))
})
afterAll(async () => {
  await engine.close()
  folder.cleanup()
})

/** A project folder with `n` 64x48 PNGs, img0.png ... */
async function makeProject(name: string, n: number): Promise<string> {
  const root = join(folder.dir, name)
  for (let i = 0; i < n; i++) writeFile(root, `img${i}.png`, await imageBytes('png', W, H, i + 3))
  return root
}

const cacheDir = (root: string) => join(root, '.sam-annotator', 'embeddings')

function keyOf(image: string): EntryKey {
  return {
    contentHash: createHash('sha256').update(readFileSync(image)).digest('hex'),
    modelKey,
    preprocess: PREPROCESS_VERSION,
  }
}

const entryOf = (root: string, image: string) => join(cacheDir(root), entryName(keyOf(join(root, image))))

function headerOf(file: string): Record<string, unknown> {
  const buf = readFileSync(file)
  return JSON.parse(buf.toString('utf8', 44, 44 + buf.readUInt32LE(8))) as Record<string, unknown>
}

/**
 * Rewrites an entry's header and signs it again with a valid checksum: what anyone who ships
 * a cache folder can do, since the checksum is an unkeyed sha256 over header and tensors.
 */
function resign(file: string, change: (header: Record<string, unknown>) => void): void {
  const buf = readFileSync(file)
  const length = buf.readUInt32LE(8)
  const header = JSON.parse(buf.toString('utf8', 44, 44 + length)) as Record<string, unknown>
  change(header)
  let json = JSON.stringify(header)
  json += ' '.repeat((4 - (Buffer.byteLength(json) % 4)) % 4)
  const headerBytes = Buffer.from(json, 'utf8')
  const size = Buffer.alloc(4)
  size.writeUInt32LE(headerBytes.length)
  const body = Buffer.concat([headerBytes, buf.subarray(44 + length)])
  const digest = createHash('sha256').update(body).digest()
  writeFileSync(file, Buffer.concat([buf.subarray(0, 8), size, digest, body]))
}

async function embed(root: string): Promise<{ code: number; json: Record<string, unknown>; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await embedCommand([root, '--model', DEMO, '--json'], {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
  })
  expect(out).toHaveLength(1)
  return { code, json: JSON.parse(out[0]) as Record<string, unknown>, err }
}

const mentions = (lines: string[], file: string) => lines.filter((l) => l.includes(file))

describe('a shipped embedding cache', () => {
  it('an entry re-signed as 50000x50000 is a miss: the polygon stays inside the real 64x48 image', async () => {
    const root = await makeProject('huge', 1)
    const image = join(root, 'img0.png')
    const prompt = { points: [{ x: 30, y: 20, label: 1 as const }] }
    const plain = await engine.segment(image, prompt)
    const first = await openEmbeddings(engine, cacheDir(root), { prefetch: 0 })
    expect((await segmentCached(engine, first, image, prompt)).embedding).toBe('encoder')
    await first.close()

    const file = entryOf(root, 'img0.png')
    resign(file, (h) => {
      h.width = 50000
      h.height = 50000
    })
    const second = await openEmbeddings(engine, cacheDir(root), { prefetch: 0 })
    const events: SchedulerEvent[] = []
    second.on((e) => events.push(e))
    const r = await segmentCached(engine, second, image, prompt)
    expect(r.embedding).toBe('encoder')
    expect([r.width, r.height]).toEqual([W, H])
    expect(r.area).toBeLessThanOrEqual(W * H)
    const [x, y, w, h] = r.bbox
    expect(x).toBeGreaterThanOrEqual(0)
    expect(y).toBeGreaterThanOrEqual(0)
    expect(x + w).toBeLessThanOrEqual(W)
    expect(y + h).toBeLessThanOrEqual(H)
    expect(r.segmentation).toEqual(plain.segmentation)
    const reported = events.filter((e) => e.type === 'cache' && e.event.type === 'mismatch')
    expect(reported).toEqual([
      { type: 'cache', event: { type: 'mismatch', file, reason: expect.stringContaining('50000x50000') } },
    ])
    await second.close() // the recomputed entry overwrites the poisoned one

    expect([headerOf(file).width, headerOf(file).height]).toEqual([W, H])
    const third = await openEmbeddings(engine, cacheDir(root), { prefetch: 0 })
    expect((await getEmbedding(third, image)).source).toBe('disk')
    await third.close()
  })

  for (const [what, field, value] of [
    ['another image', 'contentHash', 'f'.repeat(64)],
    ['another model', 'modelKey', 'demo@0000000000000000'],
  ] as const) {
    it(`an entry re-signed as computed from ${what} is a miss for the app and for embed, then overwritten`, async () => {
      const root = await makeProject(`key-${field}`, 2)
      expect((await embed(root)).json).toMatchObject({ encoded: 2 })
      const file = entryOf(root, 'img0.png')
      const good = readFileSync(file)
      resign(file, (h) => {
        h[field] = value
      })

      const app = await openEmbeddings(engine, cacheDir(root), { prefetch: 0 })
      expect((await getEmbedding(app, join(root, 'img0.png'))).source).toBe('encoder')
      await app.close()
      expect(readFileSync(file).equals(good)).toBe(true) // overwritten by the recompute

      resign(file, (h) => {
        h[field] = value
      })
      const run = await embed(root)
      expect(run.code).toBe(0)
      expect(run.json).toMatchObject({ alreadyCached: 1, encoded: 1, remaining: 0 })
      expect(mentions(run.err, file)).toHaveLength(1)
      expect(readFileSync(file).equals(good)).toBe(true)
    })
  }

  const odd: [string, (file: string, root: string) => Promise<void>][] = [
    [
      'a folder',
      async (file) => {
        mkdirSync(file, { recursive: true })
        writeFileSync(join(file, 'inside'), 'not an entry')
      },
    ],
    [
      'a symlink to a valid entry elsewhere',
      async (file, root) => {
        const elsewhere = join(`${root}-elsewhere`)
        const other = await openEmbeddings(engine, elsewhere, { prefetch: 0 })
        await getEmbedding(other, join(root, 'img0.png'))
        await other.close()
        mkdirSync(cacheDir(root), { recursive: true })
        symlinkSync(join(elsewhere, entryName(keyOf(join(root, 'img0.png')))), file)
      },
    ],
    [
      'a FIFO',
      async (file, root) => {
        mkdirSync(cacheDir(root), { recursive: true })
        execFileSync('mkfifo', [file])
      },
    ],
  ]
  for (const [what, place] of odd) {
    it(`${what} in place of an entry: embed exits 0 twice, reports it once per run, leaves it alone`, async () => {
      const root = await makeProject(`odd-${what.split(' ')[1]}`, 2)
      const file = entryOf(root, 'img0.png')
      await place(file, root)
      const kind = () => {
        const st = lstatSync(file)
        return [st.isDirectory(), st.isSymbolicLink(), st.isFIFO()]
      }
      const before = kind()
      for (let run = 0; run < 2; run++) {
        const r = await embed(root)
        expect(r.code).toBe(0)
        expect(r.json).toMatchObject({ images: 2, failed: [], remaining: 1 })
        expect(mentions(r.err, file)).toHaveLength(1)
        expect(mentions(r.err, file)[0]).toMatch(/^warning: .*skipped/)
        expect(kind()).toEqual(before)
      }
      const names = readdirSync(cacheDir(root)).filter((n) => n.endsWith('.emb'))
      expect(names.sort()).toEqual(
        [entryName(keyOf(join(root, 'img0.png'))), entryName(keyOf(join(root, 'img1.png')))].sort(),
      )

      // The app's lookup skips it too (a FIFO is never opened in a way that waits for a writer).
      const app = await openEmbeddings(engine, cacheDir(root), { prefetch: 0 })
      const events: SchedulerEvent[] = []
      app.on((e) => events.push(e))
      expect((await getEmbedding(app, join(root, 'img0.png'))).source).toBe('encoder')
      await app.close()
      const skipped = events.filter((e) => e.type === 'cache' && e.event.type === 'skipped')
      expect(skipped).toHaveLength(1)
      expect(kind()).toEqual(before)
    })
  }

  it('an unreadable file in place of an entry is a miss, reported once', async (ctx) => {
    if (process.getuid?.() === 0) ctx.skip('running as root: file permissions do not stop reading')
    const root = await makeProject('unreadable', 1)
    await embed(root)
    const file = entryOf(root, 'img0.png')
    chmodSync(file, 0)
    const app = await openEmbeddings(engine, cacheDir(root), { prefetch: 0 })
    const events: SchedulerEvent[] = []
    app.on((e) => events.push(e))
    expect((await getEmbedding(app, join(root, 'img0.png'))).source).toBe('encoder')
    await app.close()
    expect(events.filter((e) => e.type === 'cache' && e.event.type === 'skipped')).toHaveLength(1)
  })
})
