// Downloads a model archive named in the manifest, checks it, unpacks the expected files and
// installs them atomically as <modelsDir>/<installDir>. Used by `npm run models:fetch`.
//
// Why it is built this way:
// - The real archive is ~185 MB behind a GitHub release redirect, so downloads resume: bytes go
//   to <modelsDir>/.download/<asset>.part with a small .part.json sidecar (URL, ETag,
//   Last-Modified, length). A later run asks for the rest with `Range` (+ `If-Range`, so a
//   file that changed on the server comes back whole as 200 instead of being spliced). Servers
//   that ignore Range (200), answer 416, or report another length all lead to a clean restart.
// - Resume position is the size of the .part file on disk, and every received chunk is written
//   before the next is read, so an interruption at any point leaves a consistent prefix.
// - No checksum is published for the darktable-ai archive; when the manifest pins none, the
//   computed SHA-256 is recorded in install.json (and reported) so it can be pinned later.
// - The target folder is only ever replaced by a complete, validated folder: unpack into a
//   temporary sibling, validate there, then rename the old install aside, rename the new one
//   in and delete the old. Any failure before that leaves the previous install untouched.
// - Once a download completed, the .part file is removed whether or not the later steps
//   succeed: re-running after a bad archive should fetch it anew, not re-check the same bytes.

import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { join, posix, resolve, sep } from 'node:path'
import { crc32 } from 'node:zlib'
import yauzl from 'yauzl'
import { UserError, isUserError } from '../../src-main/core/errors.ts'
import type { ModelManifestEntry } from './manifest.ts'

export type FetchPhase = 'download' | 'verify' | 'unpack' | 'validate' | 'install'

export interface FetchProgress {
  phase: FetchPhase
  /** Bytes done in this phase; for a resumed download this includes the bytes already on disk. */
  received: number
  total: number | null
}

export interface FetchModelOptions {
  manifestEntry: ModelManifestEntry
  modelsDir: string
  /** Overrides the manifest's URL (tests, mirrors). */
  url?: string
  /** Checks the unpacked folder implements the model interface; throws (UserError) if not. */
  validate: (dir: string) => Promise<void>
  onProgress?: (p: FetchProgress) => void
  signal?: AbortSignal
  fetchImpl?: typeof globalThis.fetch
  /** Give up (resumably) when no data arrives for this long; default 60 s. */
  stallTimeoutMs?: number
}

export interface FetchModelResult {
  /** The installed folder, <modelsDir>/<installDir>. */
  dir: string
  /** SHA-256 of the archive, lowercase hex. */
  sha256: string
  /** True when the manifest pinned the hash and it matched; false when it was only recorded. */
  checksumVerified: boolean
  /** True when this run continued an earlier partial download. */
  resumed: boolean
  /** Archive size in bytes. */
  size: number
}

/** What <installDir>/install.json holds: where the files came from, for provenance and pinning. */
export interface InstallRecord {
  modelId: string
  interface: string
  url: string
  sha256: string
  checksumVerified: boolean
  size: number
  date: string
  files: Record<string, { size: number; sha256: string }>
}

export const INSTALL_RECORD = 'install.json'
const DOWNLOAD_DIR = '.download'
const DEFAULT_STALL_MS = 60_000

/** Where the partial download for this entry and URL lives. */
export function downloadPaths(
  modelsDir: string,
  entry: ModelManifestEntry,
  url = entry.url,
): { part: string; meta: string } {
  let asset = ''
  try {
    asset = posix.basename(new URL(url).pathname)
  } catch {
    // The URL is checked when fetched; a name is all that is needed here.
  }
  asset = asset.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '')
  const name = asset ? `${entry.id}-${asset}` : `${entry.id}.${entry.archive}`
  const part = join(modelsDir, DOWNLOAD_DIR, `${name}.part`)
  return { part, meta: `${part}.json` }
}

/** The install record of an installed model folder, or null when there is none (or it is unreadable). */
export async function readInstallRecord(dir: string): Promise<InstallRecord | null> {
  try {
    const data: unknown = JSON.parse(await readFile(join(dir, INSTALL_RECORD), 'utf8'))
    if (typeof data !== 'object' || data === null) return null
    const r = data as Partial<InstallRecord>
    if (typeof r.sha256 !== 'string' || typeof r.url !== 'string') return null
    return r as InstallRecord
  } catch {
    return null
  }
}

export async function fetchModel(options: FetchModelOptions): Promise<FetchModelResult> {
  const entry = options.manifestEntry
  const url = options.url ?? entry.url
  const modelsDir = resolve(options.modelsDir)
  const target = join(modelsDir, entry.installDir)
  const progress = options.onProgress ?? (() => {})
  const paths = downloadPaths(modelsDir, entry, url)

  await mkdir(join(modelsDir, DOWNLOAD_DIR), { recursive: true })
  await recoverInterruptedInstall(modelsDir, entry.installDir)

  const downloadDir = join(modelsDir, DOWNLOAD_DIR)
  const dl = await download({
    url,
    part: paths.part,
    metaFile: paths.meta,
    fetchImpl: options.fetchImpl ?? globalThis.fetch,
    signal: options.signal,
    stallMs: options.stallTimeoutMs ?? DEFAULT_STALL_MS,
    progress,
  }).catch(async (err: unknown) => {
    // Keeps the folder when it holds a partial file to resume from.
    await rmdir(downloadDir).catch(() => {})
    throw err
  })

  // From here on the download is complete. A bad archive is deleted so the next run fetches it
  // anew; after a cancel, or a failure that is not the archive's fault, it is kept, and the
  // next run re-checks it without downloading again (the server answers 416).
  let tmpDir: string | null = null
  let keepPart = false
  try {
    throwIfAborted(options.signal, url, paths.part)
    if (entry.archiveSize !== null && dl.size !== entry.archiveSize) {
      throw new UserError(
        'download-size',
        `${url}: the archive is ${dl.size} bytes, the manifest expects ${entry.archiveSize}; the download was deleted, run again to fetch it anew`,
      )
    }
    const sha256 = await hashFile(paths.part, dl.size, progress)
    if (entry.archiveSha256 !== null && sha256 !== entry.archiveSha256) {
      throw new UserError(
        'checksum-mismatch',
        `${url}: SHA-256 mismatch, expected ${entry.archiveSha256}, got ${sha256}; the corrupt download was deleted, run again to fetch it anew`,
      )
    }

    tmpDir = await mkdtemp(join(modelsDir, `.${entry.installDir}.tmp-`))
    // mkdtemp makes the folder private (0700); an installed model is an ordinary folder.
    await chmod(tmpDir, 0o755)
    const files = await unpack(paths.part, tmpDir, entry, url, progress, options.signal)

    throwIfAborted(options.signal, url, paths.part)
    progress({ phase: 'validate', received: 0, total: null })
    try {
      await options.validate(tmpDir)
    } catch (err) {
      if (!isUserError(err)) throw err
      // The temporary folder is gone by the time the user reads this; name the download instead.
      const msg = err.message.replaceAll(`${tmpDir}${sep}`, '').replaceAll(tmpDir, entry.installDir)
      throw new UserError(err.code, `${url}: not installed, the downloaded model failed the interface check: ${msg}`, {
        cause: err,
      })
    }
    progress({ phase: 'validate', received: 1, total: 1 })

    const record: InstallRecord = {
      modelId: entry.id,
      interface: entry.interface,
      url,
      sha256,
      checksumVerified: entry.archiveSha256 !== null,
      size: dl.size,
      date: new Date().toISOString(),
      files,
    }
    await writeFile(join(tmpDir, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`)

    throwIfAborted(options.signal, url, paths.part)
    progress({ phase: 'install', received: 0, total: 1 })
    await installAtomically(tmpDir, target, modelsDir, entry.installDir)
    tmpDir = null
    progress({ phase: 'install', received: 1, total: 1 })

    return { dir: target, sha256, checksumVerified: record.checksumVerified, resumed: dl.resumed, size: dl.size }
  } catch (err) {
    keepPart = options.signal?.aborted === true || !isUserError(err) || err.code === 'model-install'
    throw err
  } finally {
    if (tmpDir !== null) await rm(tmpDir, { recursive: true, force: true })
    if (!keepPart) {
      await rm(paths.part, { force: true })
      await rm(paths.meta, { force: true })
    }
    await rmdir(downloadDir).catch(() => {})
  }
}

// ---------------------------------------------------------------------------------------------
// Download with resume

interface PartMeta {
  url: string
  etag: string | null
  lastModified: string | null
  total: number | null
}

interface DownloadArgs {
  url: string
  part: string
  metaFile: string
  fetchImpl: typeof globalThis.fetch
  signal: AbortSignal | undefined
  stallMs: number
  progress: (p: FetchProgress) => void
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size
  } catch {
    return 0
  }
}

async function readMeta(file: string): Promise<PartMeta | null> {
  try {
    const m = JSON.parse(await readFile(file, 'utf8')) as Partial<PartMeta>
    if (typeof m.url !== 'string') return null
    return {
      url: m.url,
      etag: typeof m.etag === 'string' ? m.etag : null,
      lastModified: typeof m.lastModified === 'string' ? m.lastModified : null,
      total: typeof m.total === 'number' ? m.total : null,
    }
  } catch {
    return null
  }
}

// Content-Range: "bytes START-END/TOTAL" or "bytes (star)/TOTAL"; TOTAL may be a star too.
function parseContentRange(header: string | null): { start: number | null; total: number | null } | null {
  if (!header) return null
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header.trim())
  if (!m) return null
  return { start: m[1] !== undefined ? Number(m[1]) : null, total: m[3] === '*' ? null : Number(m[3]) }
}

function contentLength(res: Response): number | null {
  const v = res.headers.get('content-length')
  if (v === null || !/^\d+$/.test(v)) return null
  return Number(v)
}

/** For messages: a redirect target without its (often long, signed) query string. */
function shortUrl(u: string): string {
  try {
    const p = new URL(u)
    return `${p.origin}${p.pathname}`
  } catch {
    return u
  }
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause instanceof Error ? err.cause : null
  const code = (cause as NodeJS.ErrnoException | null)?.code ?? (err as NodeJS.ErrnoException).code
  const parts = [err.message]
  if (cause && cause.message && cause.message !== err.message) parts.push(cause.message)
  if (code && !parts.some((p) => p.includes(code))) parts.push(code)
  return parts.join(': ')
}

function throwIfAborted(signal: AbortSignal | undefined, url: string, part: string | null): void {
  if (signal?.aborted) {
    throw new UserError(
      'download-cancelled',
      part ? `${url}: cancelled; run again to continue (what was downloaded is kept in ${part})` : `${url}: cancelled`,
    )
  }
}

async function download(a: DownloadArgs): Promise<{ size: number; resumed: boolean }> {
  const discard = async (): Promise<void> => {
    await rm(a.part, { force: true })
    await rm(a.metaFile, { force: true })
  }

  // Up to three requests: a resume attempt may turn into a restart, which must then succeed.
  for (let attempt = 0; attempt < 3; attempt++) {
    throwIfAborted(a.signal, a.url, a.part)
    const have = await fileSize(a.part)
    const meta = await readMeta(a.metaFile)
    const canResume = have > 0 && meta !== null && meta.url === a.url
    if (have > 0 && !canResume) await discard()

    const headers: Record<string, string> = { 'accept-encoding': 'identity' }
    if (canResume) {
      headers.range = `bytes=${have}-`
      const validator = meta.etag ?? meta.lastModified
      if (validator) headers['if-range'] = validator
    }

    const stall = new AbortController()
    const signal = a.signal ? AbortSignal.any([a.signal, stall.signal]) : stall.signal
    let timer: NodeJS.Timeout | undefined
    const armStall = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => stall.abort(new Error('stalled')), a.stallMs)
    }
    const failure = (err: unknown, received: number, total: number | null): UserError => {
      if (a.signal?.aborted) {
        return new UserError(
          'download-cancelled',
          `${a.url}: download cancelled after ${received} bytes; run again to resume (partial file kept at ${a.part})`,
        )
      }
      const kept = received > 0 ? ` (partial file kept at ${a.part})` : ''
      const reason = stall.signal.aborted
        ? `no data for ${Number((a.stallMs / 1000).toFixed(1))} s`
        : describeCause(err)
      return new UserError(
        'download-interrupted',
        `${a.url}: connection lost after ${received}${total !== null ? ` of ${total}` : ''} bytes (${reason}); run the same command again to resume${kept}`,
        { cause: err },
      )
    }

    armStall()
    try {
      let res: Response
      try {
        res = await a.fetchImpl(a.url, { headers, redirect: 'follow', signal })
      } catch (err) {
        if (a.signal?.aborted || stall.signal.aborted) throw failure(err, have, meta?.total ?? null)
        throw new UserError(
          'download-network',
          `${a.url}: cannot download (${describeCause(err)}); check the network and run again`,
          { cause: err },
        )
      }
      const where = res.url && res.url !== a.url ? ` (redirected to ${shortUrl(res.url)})` : ''

      if (canResume && res.status === 416) {
        await res.body?.cancel()
        // 416 with our own length means the previous run had everything already.
        const cr = parseContentRange(res.headers.get('content-range'))
        if (cr?.total === have) return { size: have, resumed: true }
        await discard()
        continue
      }
      if (!res.ok) {
        await res.body?.cancel()
        throw new UserError(
          'download-http',
          `${a.url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${where}`,
        )
      }
      if (!res.body) throw new UserError('download-http', `${a.url}: HTTP ${res.status} with no body${where}`)

      let offset = 0
      let total: number | null
      if (res.status === 206) {
        const cr = parseContentRange(res.headers.get('content-range'))
        const changed = meta?.total != null && cr?.total != null && cr.total !== meta.total
        if (!canResume || !cr || cr.start !== have || changed) {
          // Not the continuation we asked for (or the file changed length): start over.
          await res.body.cancel()
          await discard()
          continue
        }
        offset = have
        total = cr.total ?? meta.total
      } else {
        // 200: a fresh download, a server that ignores Range, or If-Range saying the file
        // changed. Either way the body is the whole file.
        const len = contentLength(res)
        total = len
      }
      const etag = res.headers.get('etag')
      const newMeta: PartMeta = {
        url: a.url,
        // Weak ETags are not allowed in If-Range.
        etag: etag && !etag.startsWith('W/') ? etag : null,
        lastModified: res.headers.get('last-modified'),
        total,
      }
      await writeFile(a.metaFile, JSON.stringify(newMeta))

      let received = offset
      const fh = await open(a.part, offset > 0 ? 'a' : 'w')
      try {
        a.progress({ phase: 'download', received, total })
        for await (const chunk of res.body) {
          armStall()
          await fh.write(chunk)
          received += chunk.byteLength
          a.progress({ phase: 'download', received, total })
        }
      } catch (err) {
        throw failure(err, received, total)
      } finally {
        await fh.close()
      }
      if (total !== null && received !== total) {
        throw failure(new Error(`server sent ${received} bytes`), received, total)
      }
      return { size: received, resumed: offset > 0 }
    } finally {
      clearTimeout(timer)
    }
  }
  throw new UserError(
    'download-restart-loop',
    `${a.url}: the server kept answering resume requests inconsistently; delete ${a.part} and run again`,
  )
}

async function hashFile(file: string, size: number, progress: (p: FetchProgress) => void): Promise<string> {
  const hash = createHash('sha256')
  let done = 0
  progress({ phase: 'verify', received: 0, total: size })
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer
    hash.update(buf)
    done += buf.length
    progress({ phase: 'verify', received: done, total: size })
  }
  return hash.digest('hex')
}

// ---------------------------------------------------------------------------------------------
// Unpack

/** Rejects what could write outside the target: absolute, drive-letter, backslash, `..`. */
function isUnsafeEntryName(name: string): boolean {
  return (
    name.includes('\\') ||
    name.includes('\0') ||
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').includes('..')
  )
}

/** The manifest file name this entry is, relative to archiveRoot (or the archive root). */
function manifestNameOf(fileName: string, archiveRoot: string | null): string | null {
  if (!fileName.includes('/')) return fileName
  if (archiveRoot !== null && fileName.startsWith(`${archiveRoot}/`)) {
    const rest = fileName.slice(archiveRoot.length + 1)
    return rest && !rest.includes('/') ? rest : null
  }
  return null
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((res, rej) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) rej(err ?? new Error('yauzl returned no zip file'))
      else res(zip)
    })
  })
}

/** Pulls entries one at a time; yauzl reports format errors on the ZipFile's 'error' event. */
function entryReader(zip: yauzl.ZipFile): () => Promise<yauzl.Entry | null> {
  let pending: { res: (e: yauzl.Entry | null) => void; rej: (err: Error) => void } | null = null
  let failed: Error | null = null
  zip.on('entry', (e: yauzl.Entry) => pending?.res(e))
  zip.on('end', () => pending?.res(null))
  zip.on('error', (err: Error) => {
    failed = err
    pending?.rej(err)
  })
  return () =>
    new Promise((res, rej) => {
      if (failed) return rej(failed)
      pending = { res, rej }
      zip.readEntry()
    })
}

function openEntryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((res, rej) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) rej(err ?? new Error('yauzl returned no stream'))
      else res(stream)
    })
  })
}

function archiveError(url: string, err: unknown): UserError {
  if (isUserError(err)) return err
  const msg = err instanceof Error ? err.message : String(err)
  if (/^(absolute path|invalid relative path|invalid characters in fileName)/.test(msg)) {
    return new UserError(
      'archive-unsafe-path',
      `${url}: the archive holds an entry that would be written outside the model folder (${msg}); refusing to unpack it`,
      { cause: err },
    )
  }
  return new UserError(
    'archive-corrupt',
    `${url}: the archive is not a valid zip or is damaged (${msg}); the download was deleted, run again to fetch it anew`,
    { cause: err },
  )
}

async function unpack(
  archive: string,
  tmpDir: string,
  entry: ModelManifestEntry,
  url: string,
  progress: (p: FetchProgress) => void,
  signal: AbortSignal | undefined,
): Promise<Record<string, { size: number; sha256: string }>> {
  let zip: yauzl.ZipFile
  try {
    zip = await openZip(archive)
  } catch (err) {
    throw archiveError(url, err)
  }
  const extracted: Record<string, { size: number; sha256: string }> = {}
  try {
    // Pass 1, the central directory only: reject unsafe names, duplicates, missing files and
    // wrong sizes before writing a byte, and learn the total for progress.
    const selected = new Map<string, yauzl.Entry>()
    const next = entryReader(zip)
    for (let e = await next(); e !== null; e = await next()) {
      if (isUnsafeEntryName(e.fileName)) throw archiveError(url, new Error(`invalid relative path: ${e.fileName}`))
      if (e.fileName.endsWith('/')) continue
      const name = manifestNameOf(e.fileName, entry.archiveRoot)
      if (name === null || !Object.hasOwn(entry.files, name)) continue
      if (selected.has(name)) {
        throw new UserError(
          'archive-corrupt',
          `${url}: the archive holds ${name} twice (${selected.get(name)!.fileName}, ${e.fileName}); refusing to guess which one is meant`,
        )
      }
      selected.set(name, e)
    }
    const missing = Object.entries(entry.files)
      .filter(([name, spec]) => !spec.optional && !selected.has(name))
      .map(([name]) => name)
    if (missing.length > 0) {
      const where = entry.archiveRoot ? ` (looked at the archive root and in ${entry.archiveRoot}/)` : ''
      throw new UserError(
        'archive-missing-file',
        `${url}: the archive lacks ${missing.join(', ')}${where}; not a ${entry.id} archive`,
      )
    }
    const sizeError = (name: string, size: number): UserError => {
      const spec = entry.files[name]
      return new UserError(
        'model-file-size',
        `${url}: ${name} is ${size} bytes, expected between ${spec.minSize} and ${spec.maxSize} (${entry.id} in the manifest); not this model's file`,
      )
    }
    let total = 0
    for (const [name, e] of selected) {
      const spec = entry.files[name]
      if (e.uncompressedSize < spec.minSize || e.uncompressedSize > spec.maxSize)
        throw sizeError(name, e.uncompressedSize)
      total += e.uncompressedSize
    }

    // Pass 2: extract, hashing and checking CRC-32 on the way.
    let done = 0
    progress({ phase: 'unpack', received: 0, total })
    for (const [name, e] of selected) {
      throwIfAborted(signal, url, archive)
      const spec = entry.files[name]
      const out = join(tmpDir, name)
      // Belt and braces: the resolved output must sit directly in tmpDir.
      if (resolve(out) !== resolve(tmpDir) + sep + name)
        throw archiveError(url, new Error(`invalid relative path: ${e.fileName}`))

      const hash = createHash('sha256')
      let crc = 0
      let size = 0
      const fh = await open(out, 'wx')
      try {
        const stream = await openEntryStream(zip, e)
        for await (const chunk of stream) {
          const buf = chunk as Buffer
          size += buf.length
          // A lying header must not let an entry grow past the limit (zip bombs).
          if (size > spec.maxSize) throw sizeError(name, size)
          hash.update(buf)
          crc = crc32(buf, crc)
          await fh.write(buf)
          done += buf.length
          progress({ phase: 'unpack', received: done, total })
        }
      } finally {
        await fh.close()
      }
      // yauzl does not check CRC-32; a flipped byte in a stored entry would go unnoticed.
      if (crc >>> 0 !== e.crc32 >>> 0) {
        throw new UserError(
          'archive-corrupt',
          `${url}: ${e.fileName} fails its CRC-32 check; the archive is damaged, run again to fetch it anew`,
        )
      }
      if (size < spec.minSize) throw sizeError(name, size)
      const sha256 = hash.digest('hex')
      if (spec.sha256 !== null && sha256 !== spec.sha256) {
        throw new UserError(
          'checksum-mismatch',
          `${url}: ${name} SHA-256 mismatch, expected ${spec.sha256}, got ${sha256}`,
        )
      }
      extracted[name] = { size, sha256 }
    }
  } catch (err) {
    // Errors from our own writes (disk full, permissions) are not the archive's fault.
    const sys = err as NodeJS.ErrnoException
    if (!isUserError(err) && typeof sys.syscall === 'string') {
      throw new UserError('model-install', `${tmpDir}: cannot write the unpacked model (${sys.code ?? sys.message})`, {
        cause: err,
      })
    }
    throw archiveError(url, err)
  } finally {
    zip.close()
  }
  return extracted
}

// ---------------------------------------------------------------------------------------------
// Install

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p)
    return true
  } catch {
    return false
  }
}

/**
 * Swaps `tmpDir` in as `target`. The old install is renamed aside first, so a failing rename
 * can put it back; it is deleted only once the new folder is in place.
 */
async function installAtomically(tmpDir: string, target: string, modelsDir: string, installDir: string): Promise<void> {
  let aside: string | null = null
  if (await exists(target)) {
    aside = join(modelsDir, `.${installDir}.old-${randomBytes(4).toString('hex')}`)
    try {
      await rename(target, aside)
    } catch (err) {
      throw new UserError(
        'model-install',
        `${target}: cannot replace the installed model (${describeCause(err)}); close programs using it and run again`,
        { cause: err },
      )
    }
  }
  try {
    await rename(tmpDir, target)
  } catch (err) {
    if (aside !== null) await rename(aside, target)
    throw new UserError('model-install', `${target}: cannot move the new model into place (${describeCause(err)})`, {
      cause: err,
    })
  }
  if (aside !== null) await rm(aside, { recursive: true, force: true })
}

/**
 * Cleans up after a run killed mid-way: stale temporary folders go, and if the process died
 * between "rename old aside" and "rename new in", the old install is put back.
 */
async function recoverInterruptedInstall(modelsDir: string, installDir: string): Promise<void> {
  const names = await readdir(modelsDir).catch(() => [] as string[])
  const target = join(modelsDir, installDir)
  let targetExists = await exists(target)
  for (const name of names) {
    const full = join(modelsDir, name)
    if (name.startsWith(`.${installDir}.old-`) && !targetExists) {
      await rename(full, target)
      targetExists = true
    } else if (name.startsWith(`.${installDir}.old-`) || name.startsWith(`.${installDir}.tmp-`)) {
      await rm(full, { recursive: true, force: true })
    }
  }
}
