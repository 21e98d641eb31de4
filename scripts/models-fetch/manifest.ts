// The model manifest (models/manifest.json): which model archives `npm run models:fetch` knows,
// where they come from, and what the unpacked files must look like. Parsed from `unknown` so a
// hand-edited manifest fails with the file and the field at fault, not deep inside a download.
//
// Fields of each entry in `models`:
//   id            stable name, used by `--model` (e.g. "sam2.1-hiera-small")
//   name          for people
//   interface     which tensor interface the files implement ("sam2.1-hiera-small-split",
//                 see src-main/core/segment/model-interface.ts); the fetcher's validator checks it
//   url           http(s) address of the archive (redirects are followed)
//   archive       "zip" (the only format supported; darktable's .dtmodel is a zip)
//   archiveRoot   folder inside the archive that holds the files, or null. darktable-ai puts
//                 them under a folder named after its model id; files at the root are
//                 accepted either way
//   archiveSha256 lowercase hex SHA-256 of the archive, or null when not pinned yet (the
//                 fetcher then records the hash it computed instead of checking it)
//   archiveSize   exact archive size in bytes, or null
//   files         file name -> { minSize, maxSize, sha256, optional? }: the only entries taken
//                 from the archive. Sizes are bytes, inclusive; sha256 null = not pinned;
//                 optional files may be absent (default: required)
//   installDir    folder name under the models folder (a plain name, no separators)
//   license, source, notes   free text, shown to the user and kept for provenance

import { readFile } from 'node:fs/promises'
import { UserError } from '../../src-main/core/errors.ts'

export interface ModelFileSpec {
  minSize: number
  maxSize: number
  sha256: string | null
  optional: boolean
}

export interface ModelManifestEntry {
  id: string
  name: string
  interface: string
  url: string
  archive: 'zip'
  archiveRoot: string | null
  archiveSha256: string | null
  archiveSize: number | null
  files: Record<string, ModelFileSpec>
  installDir: string
  license: string
  source: string
  notes: string
}

export interface ModelManifest {
  models: ModelManifestEntry[]
}

const SHA256_RE = /^[0-9a-f]{64}$/

type Obj = Record<string, unknown>

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A single path component that cannot climb out of or across folders. */
function isPlainName(s: string): boolean {
  return s.length > 0 && s !== '.' && s !== '..' && !/[/\\:\0]/.test(s)
}

class FieldReader {
  constructor(
    private readonly file: string,
    private readonly obj: Obj,
    private readonly at: string,
  ) {}

  fail(field: string, what: string): never {
    throw new UserError('model-manifest', `${this.file}: ${this.at}.${field} ${what}`)
  }

  string(field: string, opts: { optional?: boolean } = {}): string {
    const v = this.obj[field]
    if (opts.optional && (v === undefined || v === '')) return ''
    if (typeof v !== 'string' || v.length === 0)
      this.fail(field, `must be a non-empty string (got ${JSON.stringify(v) ?? 'nothing'})`)
    return v
  }

  stringOrNull(field: string): string | null {
    const v = this.obj[field]
    if (v === undefined || v === null) return null
    if (typeof v !== 'string' || v.length === 0)
      this.fail(field, `must be a non-empty string or null (got ${JSON.stringify(v)})`)
    return v
  }

  size(field: string): number {
    const v = this.obj[field]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      this.fail(field, `must be a whole number of bytes ≥ 0 (got ${JSON.stringify(v) ?? 'nothing'})`)
    return v
  }

  sizeOrNull(field: string): number | null {
    const v = this.obj[field]
    if (v === undefined || v === null) return null
    return this.size(field)
  }

  sha256OrNull(field: string): string | null {
    const v = this.stringOrNull(field)
    if (v !== null && !SHA256_RE.test(v))
      this.fail(field, `must be 64 lowercase hex digits or null (got ${JSON.stringify(v)})`)
    return v
  }
}

function parseFileSpec(file: string, at: string, v: unknown): ModelFileSpec {
  if (!isObj(v)) throw new UserError('model-manifest', `${file}: ${at} must be an object with minSize, maxSize, sha256`)
  const r: FieldReader = new FieldReader(file, v, at)
  const minSize = r.size('minSize')
  const maxSize = r.size('maxSize')
  if (maxSize < minSize) r.fail('maxSize', `(${maxSize}) is smaller than minSize (${minSize})`)
  const optional = v.optional
  if (optional !== undefined && typeof optional !== 'boolean') r.fail('optional', 'must be true or false')
  return { minSize, maxSize, sha256: r.sha256OrNull('sha256'), optional: optional === true }
}

function parseEntry(file: string, at: string, v: unknown): ModelManifestEntry {
  if (!isObj(v)) throw new UserError('model-manifest', `${file}: ${at} must be an object`)
  const r: FieldReader = new FieldReader(file, v, at)
  const id = r.string('id')
  const url = r.string('url')
  let parsedUrl: URL
  try {
    parsedUrl = new URL(url)
  } catch {
    r.fail('url', `is not a valid URL (${JSON.stringify(url)})`)
  }
  if (parsedUrl.protocol !== 'https:' && parsedUrl.protocol !== 'http:')
    r.fail('url', `must be http or https (got ${JSON.stringify(url)})`)
  if (v.archive !== 'zip') r.fail('archive', `must be "zip" (got ${JSON.stringify(v.archive) ?? 'nothing'})`)

  const archiveRoot = r.stringOrNull('archiveRoot')
  if (archiveRoot !== null && !isPlainName(archiveRoot))
    r.fail('archiveRoot', `must be a plain folder name (got ${JSON.stringify(archiveRoot)})`)
  const installDir = r.string('installDir')
  if (!isPlainName(installDir) || installDir.startsWith('.')) {
    r.fail('installDir', `must be a plain folder name not starting with "." (got ${JSON.stringify(installDir)})`)
  }

  if (!isObj(v.files) || Object.keys(v.files).length === 0)
    r.fail('files', 'must be an object naming at least one file')
  const files: Record<string, ModelFileSpec> = {}
  for (const [name, spec] of Object.entries(v.files)) {
    if (!isPlainName(name)) r.fail('files', `has a name that is not a plain file name: ${JSON.stringify(name)}`)
    files[name] = parseFileSpec(file, `${at}.files[${JSON.stringify(name)}]`, spec)
  }
  if (Object.values(files).every((f) => f.optional)) r.fail('files', 'must name at least one required file')

  return {
    id,
    name: r.string('name'),
    interface: r.string('interface'),
    url,
    archive: 'zip',
    archiveRoot,
    archiveSha256: r.sha256OrNull('archiveSha256'),
    archiveSize: r.sizeOrNull('archiveSize'),
    files,
    installDir,
    license: r.string('license'),
    source: r.string('source'),
    notes: r.string('notes', { optional: true }),
  }
}

/** Validates parsed manifest JSON. `file` is only used in error messages. */
export function parseManifest(data: unknown, file: string): ModelManifest {
  if (!isObj(data) || !Array.isArray(data.models)) {
    throw new UserError('model-manifest', `${file}: expected an object with a "models" array`)
  }
  const models = data.models.map((m, i) => parseEntry(file, `models[${i}]`, m))
  if (models.length === 0) throw new UserError('model-manifest', `${file}: "models" is empty`)
  const seen = new Set<string>()
  for (const [i, m] of models.entries()) {
    if (seen.has(m.id))
      throw new UserError('model-manifest', `${file}: models[${i}].id ${JSON.stringify(m.id)} appears twice`)
    seen.add(m.id)
  }
  return { models }
}

export async function loadManifest(file: string): Promise<ModelManifest> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new UserError(
      'model-manifest',
      `${file}: cannot read the model manifest (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    )
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new UserError('model-manifest', `${file}: not valid JSON (${(err as Error).message})`)
  }
  return parseManifest(data, file)
}

/** The entry with this id, or the first one when no id is given. */
export function findModel(manifest: ModelManifest, id: string | undefined, file: string): ModelManifestEntry {
  if (id === undefined) return manifest.models[0]
  const found = manifest.models.find((m) => m.id === id)
  if (!found) {
    throw new UserError(
      'model-unknown',
      `${file}: no model with id ${JSON.stringify(id)} (known: ${manifest.models.map((m) => m.id).join(', ')})`,
    )
  }
  return found
}
