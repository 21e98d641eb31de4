// Reads a COCO file of any size in bounded memory: the file is read in chunks (json-stream.ts),
// each entry checked on its own (coco-parse.ts CocoChecker) and annotations handed over one at a
// time, never held all at once. Images and categories are kept (annotations refer to them).
//
// The messages are those of the whole-document parser, in the same order of precedence: an
// encoding problem (a first pass over the bytes), then broken JSON anywhere in the file, then a
// missing or mistyped top-level list, then the first bad image, category, annotation. So an entry
// error found early is held back until the rest of the file has been read (`isEntryError` tells
// a caller which errors a syntax error later in the file would have taken precedence over).
//
// The order of the top-level keys is not fixed. Usually images and categories come first, and
// annotations are handed over as they are read; when annotations come earlier, the first pass
// only checks their syntax and a second pass over the file hands them over.

import { open } from 'node:fs/promises'
import { isUtf8 } from 'node:buffer'
import { UserError } from '../errors.ts'
import {
  COCO_LISTS,
  CocoChecker,
  firstInvalidUtf8,
  otherEncoding,
  showValue,
  type CocoAnnotationEntry,
  type CocoCategoryEntry,
  type CocoImageEntry,
} from './coco-parse.ts'
import type { JsonPath } from './json-source.ts'
import { JSON_READ_CHUNK, JsonSyntaxError, readJsonPieces, type JsonPiece } from './json-stream.ts'

export type CocoEvent =
  /** Every image and category, checked: once, before the first annotation. */
  | { kind: 'head'; images: CocoImageEntry[]; categories: CocoCategoryEntry[] }
  | { kind: 'annotation'; entry: CocoAnnotationEntry }

export interface CocoReadOptions {
  /** Bytes per read (default JSON_READ_CHUNK); a test makes it small to see reading is incremental. */
  chunkSize?: number
  /** Bytes read so far in the current pass over the file, and the file's size. */
  onRead?: (bytes: number, size: number) => void
}

const entryErrors = new WeakSet<object>()

/** An error about one entry (not the file's syntax or layout). */
export function isEntryError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && entryErrors.has(err)
}

/** How many bytes at the end of `bytes` start a UTF-8 sequence that the next chunk completes. */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const c = bytes[bytes.length - k]
    if (c < 0x80) return 0
    if (c >= 0xc0) {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2
      return len > k ? k : 0
    }
  }
  return 0
}

/** The checks of decodeCocoBytes (coco-parse.ts), over the file in chunks; the same messages. */
async function checkEncoding(file: string, chunkSize: number): Promise<number> {
  const handle = await open(file, 'r')
  try {
    const size = (await handle.stat()).size
    const chunk = Buffer.alloc(Math.max(chunkSize, 8))
    let offset = 0
    let carry = Buffer.alloc(0)
    let bom = false
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset)
      if (offset === 0) {
        const head = chunk.subarray(0, bytesRead)
        bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf
        const other = bom ? null : otherEncoding(head)
        if (other) throw new UserError('coco-json', `${file}: the file is ${other} text; save it as UTF-8`)
      }
      const start = offset - carry.length
      const bytes =
        carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead)
      offset += bytesRead
      const tail = bytesRead === 0 ? 0 : incompleteTail(bytes)
      const bodyStart = start === 0 && bom ? 3 : 0
      const body = bytes.subarray(bodyStart, bytes.length - tail)
      if (!isUtf8(body)) {
        const bad = bodyStart + firstInvalidUtf8(body)
        throw new UserError(
          'coco-json',
          `${file}: not UTF-8 text (byte 0x${bytes[bad].toString(16).toUpperCase().padStart(2, '0')} at offset ${start + bad} is not valid UTF-8; a Latin-1 or Windows-1252 file?); save it as UTF-8`,
        )
      }
      if (bytesRead === 0) return size
      carry = Buffer.from(bytes.subarray(bytes.length - tail))
    }
  } finally {
    await handle.close()
  }
}

function syntaxError(file: string, err: unknown): UserError {
  return new UserError('coco-json', `${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`, {
    cause: err,
  })
}

/** `what` names the value in a syntax error: `info`, `annotations[7]`. */
function parseValue(file: string, what: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw syntaxError(file, new Error(`${what}: ${(err as Error).message.split('\n')[0]}`))
  }
}

/** Shows a value of an entry as written in the entry's own text. */
const showIn =
  (text: string) =>
  (value: unknown, ...path: JsonPath): string =>
    showValue(value, text, path)

const LISTS: ReadonlySet<string> = new Set(COCO_LISTS)

/** The file's images and categories, then its annotations one by one (see the header). */
export async function* readCocoFile(file: string, options: CocoReadOptions = {}): AsyncGenerator<CocoEvent> {
  const chunkSize = options.chunkSize ?? JSON_READ_CHUNK
  const size = await checkEncoding(file, chunkSize)
  const check = new CocoChecker(file)
  const pieces = (): AsyncGenerator<JsonPiece> =>
    readJsonPieces(file, {
      chunkSize,
      lists: LISTS,
      onRead: (bytes) => options.onRead?.(bytes, size),
    })
  const seen = new Set<string>()
  const notList = new Map<string, { value: unknown; text: string }>()
  const done = new Set<string>()
  const firstError = new Map<string, UserError>()
  /** Annotations are handed over during the first pass (images and categories came first). */
  let streaming = false
  const keep = (key: string, err: unknown): void => {
    if (!(err instanceof UserError)) throw err
    entryErrors.add(err)
    if (!firstError.has(key)) firstError.set(key, err)
  }
  try {
    for await (const piece of pieces()) {
      if (piece.kind === 'not-object') {
        if (/^[[\]"\-0-9tfn]$/.test(piece.first))
          throw new UserError('coco-invalid', `${file}: not a COCO file (the top level is not an object)`)
        throw syntaxError(file, new Error(`Unexpected token ${JSON.stringify(piece.first)} at the start`))
      }
      const { key } = piece
      if (piece.kind === 'value' || (piece.kind === 'list' && !piece.end)) {
        if (seen.has(key))
          throw new UserError('coco-invalid', `${file}: ${key}: given twice in the file; keep one of them`)
        seen.add(key)
        if (piece.kind === 'value' && piece.text !== null) {
          // Checked even where unused (`info`): broken JSON anywhere is refused, as JSON.parse did.
          const value = parseValue(file, key, piece.text)
          if (LISTS.has(key)) notList.set(key, { value, text: piece.text })
        } else if (piece.kind === 'value' && LISTS.has(key)) notList.set(key, { value: {}, text: '{...}' })
        else if (key === 'annotations' && done.has('images') && done.has('categories')) {
          streaming = !firstError.has('images') && !firstError.has('categories')
          if (streaming) yield { kind: 'head', images: check.images, categories: check.categories }
        }
        continue
      }
      if (piece.kind === 'list') {
        done.add(key)
        continue
      }
      const raw = parseValue(file, `${key}[${piece.index}]`, piece.text)
      if (firstError.has(key)) continue
      let entry: CocoAnnotationEntry | null = null
      try {
        if (key === 'images') check.image(raw, piece.index, showIn(piece.text))
        else if (key === 'categories') check.category(raw, piece.index, showIn(piece.text))
        else if (streaming) entry = check.annotation(raw, piece.index, showIn(piece.text))
      } catch (err) {
        keep(key, err)
      }
      if (entry) yield { kind: 'annotation', entry }
    }
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw syntaxError(file, err)
    throw err
  }
  for (const key of COCO_LISTS) {
    const found = notList.get(key)
    check.checkList(key, seen.has(key), found ? found.value : [], showIn(found?.text ?? '[]'))
  }
  for (const key of COCO_LISTS) {
    const err = firstError.get(key)
    if (err) throw err
  }
  if (streaming) return
  // Annotations came before images or categories: a second pass hands them over.
  yield { kind: 'head', images: check.images, categories: check.categories }
  for await (const piece of pieces()) {
    if (piece.kind !== 'entry' || piece.key !== 'annotations') continue
    const raw = parseValue(file, `annotations[${piece.index}]`, piece.text)
    yield { kind: 'annotation', entry: check.annotation(raw, piece.index, showIn(piece.text)) }
  }
}
