// Model download and install (scripts/models-fetch/fetch.ts, manifest.ts) against a real HTTP
// server on 127.0.0.1 that can redirect, drop the connection mid-body, ignore Range, change the
// file between runs, or serve a damaged archive. Archives are tiny fake models built here.

import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { zipSync } from 'fflate'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { UserError } from '../../src-main/core/errors.ts'
import {
  downloadPaths,
  fetchModel,
  type FetchModelOptions,
  type InstallRecord,
} from '../../scripts/models-fetch/fetch.ts'
import { findModel, loadManifest, parseManifest, type ModelManifestEntry } from '../../scripts/models-fetch/manifest.ts'
import {
  DECODER_INPUTS,
  DECODER_OUTPUTS_A,
  ENCODER_INPUTS,
  ENCODER_OUTPUTS,
  type TensorSpec,
} from '../../src-main/core/segment/model-interface.ts'
import { buildStubModel, type StubTensor } from '../helpers/onnx-stub.ts'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

// ---------------------------------------------------------------------------------------------
// Fake model archives

/** Incompressible bytes, so the archive is as large as the files and can be cut mid-entry. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

interface FakeModel {
  zip: Buffer
  sha256: string
  files: Record<string, Uint8Array>
}

function makeArchive(
  seed: number,
  opts: { root?: string; extra?: Record<string, Uint8Array>; omit?: string[] } = {},
): FakeModel {
  const files: Record<string, Uint8Array> = {
    'encoder.onnx': noise(96 * 1024, seed),
    'decoder.onnx': noise(24 * 1024, seed + 1),
    'config.json': new TextEncoder().encode(JSON.stringify({ id: 'fake', seed })),
  }
  for (const name of opts.omit ?? []) delete files[name]
  const entries: Record<string, Uint8Array> = {}
  for (const [name, data] of Object.entries(files)) entries[opts.root ? `${opts.root}/${name}` : name] = data
  Object.assign(entries, opts.extra ?? {})
  // level 0: stored, so byte offsets in the archive map directly onto file contents.
  const zip = Buffer.from(zipSync(entries, { level: 0 }))
  return { zip, sha256: createHash('sha256').update(zip).digest('hex'), files }
}

function entryFor(overrides: Partial<ModelManifestEntry> = {}): ModelManifestEntry {
  return {
    id: 'fake-sam',
    name: 'Fake SAM for tests',
    interface: 'sam2.1-hiera-small-split',
    url: 'http://127.0.0.1:9/unused',
    archive: 'zip',
    archiveRoot: 'fake-root',
    archiveSha256: null,
    archiveSize: null,
    files: {
      'encoder.onnx': { minSize: 1000, maxSize: 1_000_000, sha256: null, optional: false },
      'decoder.onnx': { minSize: 1000, maxSize: 1_000_000, sha256: null, optional: false },
      'config.json': { minSize: 2, maxSize: 10_000, sha256: null, optional: true },
    },
    installDir: 'fake-sam',
    license: 'test',
    source: 'test',
    notes: '',
    ...overrides,
  }
}

// ---------------------------------------------------------------------------------------------
// Test server

interface Behaviour {
  /** Body served at /model.zip. */
  body: Buffer
  etag: string
  /** Serve this many bytes of the next response(s), then destroy the socket. */
  dropAfter: number | null
  dropTimes: number
  /** Instead of dropping, keep the connection open and send nothing more. */
  hang: boolean
  ignoreRange: boolean
  status: number
}

interface SeenRequest {
  path: string
  range: string | undefined
  ifRange: string | undefined
}

interface TestServer {
  base: string
  seen: SeenRequest[]
  behaviour: Behaviour
  close(): Promise<void>
}

async function startServer(body: Buffer): Promise<TestServer> {
  const seen: SeenRequest[] = []
  const behaviour: Behaviour = {
    body,
    etag: '"v1"',
    dropAfter: null,
    dropTimes: 0,
    hang: false,
    ignoreRange: false,
    status: 200,
  }

  const serveModel = (req: IncomingMessage, res: ServerResponse): void => {
    const b = behaviour.body
    if (behaviour.status !== 200) {
      res.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end('nope')
      return
    }
    let start = 0
    let status = 200
    const headers: Record<string, string | number> = {
      etag: behaviour.etag,
      'accept-ranges': 'bytes',
      'content-type': 'application/zip',
    }
    const range = req.headers.range
    const ifRange = req.headers['if-range']
    const rangeApplies =
      range !== undefined && !behaviour.ignoreRange && (ifRange === undefined || ifRange === behaviour.etag)
    if (rangeApplies) {
      const m = /^bytes=(\d+)-$/.exec(range)
      if (!m) throw new Error(`test server: unexpected Range ${range}`)
      start = Number(m[1])
      if (start >= b.length) {
        res.writeHead(416, { 'content-range': `bytes */${b.length}` }).end()
        return
      }
      status = 206
      headers['content-range'] = `bytes ${start}-${b.length - 1}/${b.length}`
    }
    const slice = b.subarray(start)
    headers['content-length'] = slice.length
    res.writeHead(status, headers)
    if (behaviour.dropAfter !== null && behaviour.dropTimes > 0) {
      behaviour.dropTimes--
      res.write(slice.subarray(0, behaviour.dropAfter), () => {
        // Give the client time to consume the bytes: fetch discards chunks still queued in
        // the body stream when the connection errors.
        if (!behaviour.hang) setTimeout(() => res.socket?.destroy(), 150)
      })
      return
    }
    res.end(slice)
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    seen.push({ path, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined })
    if (path === '/model.zip') return serveModel(req, res)
    if (path === '/redirect') {
      res.writeHead(302, { location: '/redirect2' }).end()
      return
    }
    if (path === '/redirect2') {
      res.writeHead(307, { location: '/model.zip?signature=abc' }).end()
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    behaviour,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

// ---------------------------------------------------------------------------------------------

/** The injected interface check: both ONNX files present (the real one loads them with ORT). */
async function filesExist(dir: string): Promise<void> {
  for (const f of ['encoder.onnx', 'decoder.onnx']) {
    if (!existsSync(join(dir, f))) throw new UserError('model-missing', `${join(dir, f)}: missing`)
  }
}

async function expectUserError(p: Promise<unknown>, code: string): Promise<UserError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err, `expected UserError ${code}`).toBeInstanceOf(UserError)
  expect((err as UserError).code).toBe(code)
  return err as UserError
}

async function expectInstalled(dir: string, model: FakeModel): Promise<InstallRecord> {
  for (const [name, data] of Object.entries(model.files)) {
    expect(Buffer.compare(await readFile(join(dir, name)), Buffer.from(data)), name).toBe(0)
  }
  return JSON.parse(await readFile(join(dir, 'install.json'), 'utf8')) as InstallRecord
}

/** Nothing half-done left behind: no temp or aside folders, no partial download. */
async function expectNoLeftovers(modelsDir: string): Promise<void> {
  const names = await readdir(modelsDir)
  expect(names.filter((n) => n.startsWith('.'))).toEqual([])
}

let modelsDir: string
let server: TestServer | null = null
let v1: FakeModel

beforeEach(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'models-fetch-'))
  v1 = makeArchive(1, { root: 'fake-root' })
  server = await startServer(v1.zip)
})

afterEach(async () => {
  await server?.close()
  server = null
  await rm(modelsDir, { recursive: true, force: true })
})

function run(overrides: Partial<FetchModelOptions> = {}, entry = entryFor()) {
  return fetchModel({
    manifestEntry: entry,
    modelsDir,
    url: `${server!.base}/model.zip`,
    validate: filesExist,
    ...overrides,
  })
}

describe('fetchModel', () => {
  it('downloads, unpacks only the expected files, records the unpinned checksum', async () => {
    const extra = { 'fake-root/README.txt': new Uint8Array([1, 2, 3]), 'other/encoder.onnx': new Uint8Array(2000) }
    const model = makeArchive(7, { root: 'fake-root', extra })
    server!.behaviour.body = model.zip
    const phases = new Set<string>()
    const result = await run({ onProgress: (p) => phases.add(p.phase) })

    expect(result.dir).toBe(join(modelsDir, 'fake-sam'))
    expect(result.checksumVerified).toBe(false)
    expect(result.resumed).toBe(false)
    expect(result.sha256).toBe(model.sha256)
    const record = await expectInstalled(result.dir, model)
    expect(record).toMatchObject({
      modelId: 'fake-sam',
      url: `${server!.base}/model.zip`,
      sha256: model.sha256,
      size: model.zip.length,
      checksumVerified: false,
    })
    expect(Number.isNaN(Date.parse(record.date))).toBe(false)
    expect(record.files['encoder.onnx'].size).toBe(model.files['encoder.onnx'].length)
    expect((await readdir(result.dir)).sort()).toEqual(['config.json', 'decoder.onnx', 'encoder.onnx', 'install.json'])
    expect([...phases]).toEqual(['download', 'verify', 'unpack', 'validate', 'install'])
    await expectNoLeftovers(modelsDir)
  })

  it('accepts files at the archive root too', async () => {
    const model = makeArchive(3)
    server!.behaviour.body = model.zip
    await expectInstalled((await run()).dir, model)
  })

  it('verifies a pinned checksum', async () => {
    const result = await run({}, entryFor({ archiveSha256: v1.sha256, archiveSize: v1.zip.length }))
    expect(result.checksumVerified).toBe(true)
    expect((await expectInstalled(result.dir, v1)).checksumVerified).toBe(true)
  })

  it('rejects a corrupted download, deletes it and keeps the previous install', async () => {
    const first = await run()
    const corrupted = Buffer.from(v1.zip)
    corrupted[corrupted.length >> 1] ^= 0xff
    server!.behaviour.body = corrupted
    const actual = createHash('sha256').update(corrupted).digest('hex')
    const url = `${server!.base}/model.zip`

    const err = await expectUserError(run({}, entryFor({ archiveSha256: v1.sha256 })), 'checksum-mismatch')
    expect(err.message).toContain(v1.sha256)
    expect(err.message).toContain(actual)
    expect(err.message).toContain(url)
    await expectInstalled(first.dir, v1)
    expect(existsSync(downloadPaths(modelsDir, entryFor(), url).part)).toBe(false)
    await expectNoLeftovers(modelsDir)
  })

  it('detects a damaged entry through CRC-32 when no checksum is pinned', async () => {
    const corrupted = Buffer.from(v1.zip)
    corrupted[200] ^= 0xff // inside encoder.onnx's stored data
    server!.behaviour.body = corrupted
    await expectUserError(run(), 'archive-corrupt')
    expect(existsSync(join(modelsDir, 'fake-sam'))).toBe(false)
  })

  it('resumes a dropped download with Range', async () => {
    const url = `${server!.base}/model.zip`
    server!.behaviour.dropAfter = 40_000
    server!.behaviour.dropTimes = 1
    const err = await expectUserError(run(), 'download-interrupted')
    expect(err.message).toContain(url)
    expect(err.message).toMatch(/run the same command again to resume/)
    const { part } = downloadPaths(modelsDir, entryFor(), url)
    const partial = (await stat(part)).size
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(v1.zip.length)
    expect(existsSync(join(modelsDir, 'fake-sam'))).toBe(false)

    const received: number[] = []
    const result = await run({ onProgress: (p) => p.phase === 'download' && received.push(p.received) })
    expect(result.resumed).toBe(true)
    expect(received[0]).toBe(partial)
    const last = server!.seen.at(-1)!
    expect(last.range).toBe(`bytes=${partial}-`)
    expect(last.ifRange).toBe('"v1"')
    expect(result.sha256).toBe(v1.sha256)
    await expectInstalled(result.dir, v1)
    await expectNoLeftovers(modelsDir)
  })

  it('starts over when the server ignores Range', async () => {
    server!.behaviour.dropAfter = 30_000
    server!.behaviour.dropTimes = 1
    await expectUserError(run(), 'download-interrupted')
    server!.behaviour.ignoreRange = true
    const result = await run()
    expect(server!.seen.at(-1)!.range).toMatch(/^bytes=\d+-$/)
    expect(result.resumed).toBe(false)
    expect(result.sha256).toBe(v1.sha256)
    await expectInstalled(result.dir, v1)
  })

  it('starts over when the file changed on the server between runs', async () => {
    server!.behaviour.dropAfter = 30_000
    server!.behaviour.dropTimes = 1
    await expectUserError(run(), 'download-interrupted')
    const v2 = makeArchive(2, { root: 'fake-root', extra: { 'fake-root/pad.bin': new Uint8Array(5000) } })
    server!.behaviour.body = v2.zip
    server!.behaviour.etag = '"v2"'
    const result = await run()
    expect(result.resumed).toBe(false)
    expect(result.sha256).toBe(v2.sha256)
    await expectInstalled(result.dir, v2)
  })

  it('finishes when the partial file is already complete (416)', async () => {
    const url = `${server!.base}/model.zip`
    const { part, meta } = downloadPaths(modelsDir, entryFor(), url)
    await mkdir(dirname(part), { recursive: true })
    await writeFile(part, v1.zip)
    await writeFile(meta, JSON.stringify({ url, etag: '"v1"', lastModified: null, total: v1.zip.length }))
    const result = await run()
    expect(server!.seen.at(-1)!.range).toBe(`bytes=${v1.zip.length}-`)
    expect(result.resumed).toBe(true)
    await expectInstalled(result.dir, v1)
  })

  it('reports HTTP errors with status and URL', async () => {
    const url = `${server!.base}/missing.zip`
    const err = await expectUserError(run({ url }), 'download-http')
    expect(err.message).toContain('404')
    expect(err.message).toContain(url)
    server!.behaviour.status = 503
    expect((await expectUserError(run(), 'download-http')).message).toContain('503')
    expect(existsSync(join(modelsDir, 'fake-sam'))).toBe(false)
  })

  it('reports an unreachable server', async () => {
    const url = `${server!.base}/model.zip`
    await server!.close()
    server = null
    const err = await expectUserError(
      fetchModel({ manifestEntry: entryFor(), modelsDir, url, validate: filesExist }),
      'download-network',
    )
    expect(err.message).toContain(url)
  })

  it('follows redirects, and resumes through them (as GitHub release assets need)', async () => {
    const url = `${server!.base}/redirect`
    server!.behaviour.dropAfter = 30_000
    server!.behaviour.dropTimes = 1
    await expectUserError(run({ url }), 'download-interrupted')
    const result = await run({ url })
    expect(server!.seen.map((s) => s.path)).toEqual([
      '/redirect',
      '/redirect2',
      '/model.zip',
      '/redirect',
      '/redirect2',
      '/model.zip',
    ])
    expect(server!.seen.at(-1)!.range).toMatch(/^bytes=[1-9]\d*-$/)
    expect(result.resumed).toBe(true)
    await expectInstalled(result.dir, v1)
  })

  it('rejects an archive with a path-traversal entry and writes nothing', async () => {
    const model = makeArchive(4, { root: 'fake-root', extra: { '../evil.txt': new TextEncoder().encode('pwned') } })
    server!.behaviour.body = model.zip
    const err = await expectUserError(run(), 'archive-unsafe-path')
    expect(err.message).toContain('../evil.txt')
    expect(existsSync(join(modelsDir, 'evil.txt'))).toBe(false)
    expect(existsSync(join(dirname(modelsDir), 'evil.txt'))).toBe(false)
    expect(existsSync(join(modelsDir, 'fake-sam'))).toBe(false)
    await expectNoLeftovers(modelsDir)
  })

  it('rejects a file that is not a zip', async () => {
    server!.behaviour.body = Buffer.from('<html>rate limited</html>')
    await expectUserError(run(), 'archive-corrupt')
    await expectNoLeftovers(modelsDir)
  })

  it('rejects an archive missing a required file', async () => {
    server!.behaviour.body = makeArchive(5, { root: 'fake-root', omit: ['decoder.onnx'] }).zip
    const err = await expectUserError(run(), 'archive-missing-file')
    expect(err.message).toContain('decoder.onnx')
  })

  it('rejects an archive holding a model file twice', async () => {
    server!.behaviour.body = makeArchive(6, { root: 'fake-root', extra: { 'encoder.onnx': noise(2000, 9) } }).zip
    const err = await expectUserError(run(), 'archive-corrupt')
    expect(err.message).toContain('encoder.onnx twice')
  })

  it('rejects files outside the manifest size range', async () => {
    const entry = entryFor()
    entry.files['encoder.onnx'] = { minSize: 1000, maxSize: 50_000, sha256: null, optional: false }
    const err = await expectUserError(run({}, entry), 'model-file-size')
    expect(err.message).toContain('encoder.onnx')
    expect(err.message).toContain(String(v1.files['encoder.onnx'].length))
  })

  it('replaces an existing install only after the new one validated', async () => {
    await run()
    const v2 = makeArchive(2, { root: 'fake-root' })
    server!.behaviour.body = v2.zip
    const target = join(modelsDir, 'fake-sam')
    let validatedDir = ''
    const result = await run({
      validate: async (dir) => {
        validatedDir = dir
        // While the new files are checked, the old install is still in place.
        await expectInstalled(target, v1)
        await filesExist(dir)
      },
    })
    expect(validatedDir).not.toBe(target)
    expect(dirname(validatedDir)).toBe(modelsDir)
    await expectInstalled(result.dir, v2)
    await expectNoLeftovers(modelsDir)
  })

  it('keeps the previous install when validation rejects the new files', async () => {
    await run()
    server!.behaviour.body = makeArchive(2, { root: 'fake-root' }).zip
    const rejecting = async (dir: string): Promise<void> => {
      throw new UserError('model-interface', `${join(dir, 'decoder.onnx')}: missing input 'point_coords'`)
    }
    const err = await expectUserError(run({ validate: rejecting }), 'model-interface')
    expect(err.message).toContain('point_coords')
    await expectInstalled(join(modelsDir, 'fake-sam'), v1)
    await expectNoLeftovers(modelsDir)
  })

  it('puts back an install left aside by a run killed mid-swap', async () => {
    await run()
    const target = join(modelsDir, 'fake-sam')
    const { rename } = await import('node:fs/promises')
    await rename(target, join(modelsDir, '.fake-sam.old-deadbeef'))
    await mkdir(join(modelsDir, '.fake-sam.tmp-abc123'))
    server!.behaviour.status = 500
    await expectUserError(run(), 'download-http')
    await expectInstalled(target, v1)
    await expectNoLeftovers(modelsDir)
  })

  it('stops on abort and keeps the partial file for a resume', async () => {
    const controller = new AbortController()
    Object.assign(server!.behaviour, { dropAfter: 30_000, dropTimes: 1, hang: true })
    const url = `${server!.base}/model.zip`
    const p = run({ signal: controller.signal, onProgress: (p) => p.received > 0 && controller.abort() })
    await expectUserError(p, 'download-cancelled')
    expect((await stat(downloadPaths(modelsDir, entryFor(), url).part)).size).toBeGreaterThan(0)
    const result = await run()
    expect(result.resumed).toBe(true)
    await expectInstalled(result.dir, v1)
  })

  it('keeps a complete download when cancelled later, and finishes from it without re-downloading', async () => {
    const controller = new AbortController()
    const url = `${server!.base}/model.zip`
    const validate = async (): Promise<void> => controller.abort()
    await expectUserError(run({ signal: controller.signal, validate }), 'download-cancelled')
    expect((await stat(downloadPaths(modelsDir, entryFor(), url).part)).size).toBe(v1.zip.length)
    expect(existsSync(join(modelsDir, 'fake-sam'))).toBe(false)
    const result = await run()
    expect(server!.seen.at(-1)!.range).toBe(`bytes=${v1.zip.length}-`)
    await expectInstalled(result.dir, v1)
    await expectNoLeftovers(modelsDir)
  })

  it('gives up resumably when the server stalls', async () => {
    Object.assign(server!.behaviour, { dropAfter: 30_000, dropTimes: 1, hang: true })
    const err = await expectUserError(run({ stallTimeoutMs: 300 }), 'download-interrupted')
    expect(err.message).toContain('no data for 0.3 s')
    const result = await run()
    expect(result.resumed).toBe(true)
    await expectInstalled(result.dir, v1)
  })
})

describe('model manifest', () => {
  it('loads the repository manifest with the real SAM 2.1 entry', async () => {
    const file = join(REPO_ROOT, 'models', 'manifest.json')
    const manifest = await loadManifest(file)
    const entry = findModel(manifest, undefined, file)
    expect(entry.id).toBe('sam2.1-hiera-small')
    expect(entry.installDir).toBe('sam2.1-hiera-small')
    expect(entry.interface).toBe('sam2.1-hiera-small-split')
    expect(entry.url).toMatch(/^https:\/\/github\.com\/darktable-org\/darktable-ai\/releases\/download\//)
    expect(entry.files['encoder.onnx'].minSize).toBeLessThanOrEqual(160_000_000)
    expect(entry.files['encoder.onnx'].maxSize).toBeGreaterThanOrEqual(165 * 1024 * 1024)
    expect(entry.files['decoder.onnx'].minSize).toBeLessThanOrEqual(20_000_000)
    expect(entry.files['decoder.onnx'].maxSize).toBeGreaterThanOrEqual(21 * 1024 * 1024)
  })

  it('names the file and the field on bad input', () => {
    const good = JSON.parse(
      JSON.stringify({ models: [{ ...entryFor(), files: { 'a.onnx': { minSize: 1, maxSize: 2, sha256: null } } }] }),
    ) as {
      models: Record<string, unknown>[]
    }
    expect(() => parseManifest(good, 'm.json')).not.toThrow()
    const bad = (mutate: (m: Record<string, unknown>) => void): unknown => {
      const copy = JSON.parse(JSON.stringify(good)) as { models: Record<string, unknown>[] }
      mutate(copy.models[0])
      return copy
    }
    const cases: [unknown, RegExp][] = [
      [bad((m) => (m.url = 'ftp://x/y')), /^m\.json: models\[0\]\.url /],
      [bad((m) => (m.archiveSha256 = 'ABC')), /^m\.json: models\[0\]\.archiveSha256 /],
      [bad((m) => (m.installDir = '../up')), /^m\.json: models\[0\]\.installDir /],
      [
        bad((m) => (m.files = { '../x.onnx': { minSize: 1, maxSize: 2, sha256: null } })),
        /^m\.json: models\[0\]\.files /,
      ],
      [
        bad((m) => (m.files = { 'a.onnx': { minSize: 5, maxSize: 2, sha256: null } })),
        /^m\.json: models\[0\]\.files\["a\.onnx"\]\.maxSize /,
      ],
      [bad((m) => delete m.name), /^m\.json: models\[0\]\.name /],
      [bad((m) => (m.archive = 'tar')), /^m\.json: models\[0\]\.archive /],
      [{ models: [] }, /^m\.json: "models" is empty/],
      [[], /^m\.json: expected an object/],
    ]
    for (const [data, re] of cases) {
      let caught: unknown
      try {
        parseManifest(data, 'm.json')
      } catch (e) {
        caught = e
      }
      expect(caught, String(re)).toBeInstanceOf(UserError)
      expect((caught as Error).message).toMatch(re)
    }
    expect(() => findModel(parseManifest(good, 'm.json'), 'nope', 'm.json')).toThrow(
      /m\.json: no model with id "nope" \(known: fake-sam\)/,
    )
  })
})

// ---------------------------------------------------------------------------------------------
// The CLI as a user runs it: a child process, the real interface check (onnxruntime) on stub
// ONNX files that have the SAM 2.1 interface, a test manifest with small size limits.

describe('npm run models:fetch', () => {
  const exec = promisify(execFile)
  const copy = (specs: readonly TensorSpec[]): StubTensor[] => specs.map((t) => ({ name: t.name, shape: [...t.shape] }))

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const argv = ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'models-fetch.ts'), ...args]
    try {
      const { stdout, stderr } = await exec(process.execPath, argv, { cwd: REPO_ROOT })
      return { code: 0, stdout, stderr }
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string }
      return { code: err.code, stdout: err.stdout, stderr: err.stderr }
    }
  }

  function stubArchive(decoderInputs: StubTensor[]): Buffer {
    return Buffer.from(
      zipSync({
        'stub/encoder.onnx': buildStubModel(copy(ENCODER_INPUTS), copy(ENCODER_OUTPUTS)),
        'stub/decoder.onnx': buildStubModel(decoderInputs, copy(DECODER_OUTPUTS_A)),
      }),
    )
  }

  it('installs, skips when installed, and refuses a model with the wrong interface', async () => {
    const manifestFile = join(modelsDir, 'manifest.json')
    const entry = entryFor({ id: 'stub', installDir: 'stub', archiveRoot: 'stub', url: `${server!.base}/model.zip` })
    entry.files['encoder.onnx'].minSize = 10
    entry.files['decoder.onnx'].minSize = 10
    await writeFile(manifestFile, JSON.stringify({ models: [entry] }))
    server!.behaviour.body = stubArchive(copy(DECODER_INPUTS))
    const dir = join(modelsDir, 'installed')
    const target = join(dir, 'stub')

    const first = await cli('--manifest', manifestFile, '--dir', dir)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`Installed Fake SAM for tests at ${target}`)
    expect(first.stdout).toMatch(/SHA-256 [0-9a-f]{64} .*NOT verified/)
    expect(first.stderr).toContain('download: done') // plain progress lines when not on a terminal
    const record = JSON.parse(await readFile(join(target, 'install.json'), 'utf8')) as InstallRecord
    expect(record.sha256).toBe(createHash('sha256').update(server!.behaviour.body).digest('hex'))

    const requests = server!.seen.length
    const again = await cli('--manifest', manifestFile, '--dir', dir)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('already installed')
    expect(server!.seen.length).toBe(requests)

    // An export with an extra decoder input (a near miss the contract names) must not replace it.
    server!.behaviour.body = stubArchive([...copy(DECODER_INPUTS), { name: 'orig_im_size', shape: [2] }])
    const bad = await cli('--manifest', manifestFile, '--dir', dir, '--force')
    expect(bad.code).toBe(1)
    const errorLines = bad.stderr.split('\n').filter((l) => l.startsWith('error:'))
    expect(errorLines).toHaveLength(1)
    expect(errorLines[0]).toContain('orig_im_size')
    expect(JSON.parse(await readFile(join(target, 'install.json'), 'utf8'))).toEqual(record)

    const usage = await cli('--manifest', manifestFile, '--frobnicate')
    expect(usage.code).toBe(1)
    expect(usage.stderr.trim()).toMatch(/^error: .*--frobnicate/)
  })
})
