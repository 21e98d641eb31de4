// Reads and checks a COCO instance-segmentation document before anything is imported. Every
// problem is a UserError naming the file and the offending entry by its index and id, e.g.
// `annotations[17] (id 9001): segmentation polygon 0 has 2 points`, so a user can find it.
// Geometry is normalised here: polygons as flat rings, RLE (compressed string or uncompressed
// counts) decoded to counts and checked against its size.

import { isUtf8 } from 'node:buffer'
import { UserError } from '../errors.ts'
import { rleFromString, rleProblem, type Rle } from '../segment/rle.ts'
import { jsonSourcePreview, locateJsonValue, type JsonPath } from './json-source.ts'

export interface CocoImageEntry {
  index: number
  id: number
  /** As written in the file (import-coco.ts decides what a '\\' in it means). */
  fileName: string
  width: number | null
  height: number | null
}

export interface CocoCategoryEntry {
  index: number
  id: number
  name: string
  supercategory: string | null
}

export type CocoGeometry =
  | { kind: 'polygons'; polygons: number[][] }
  | { kind: 'rle'; rle: Rle }
  /** No segmentation, only a bbox: imported as its rectangle. */
  | { kind: 'bbox'; bbox: [number, number, number, number] }

export interface CocoAnnotationEntry {
  index: number
  id: number | null
  imageId: number
  categoryId: number
  geometry: CocoGeometry
  iscrowd: boolean
}

export interface CocoDocument {
  images: CocoImageEntry[]
  categories: CocoCategoryEntry[]
  annotations: CocoAnnotationEntry[]
}

/** How much of a value an error line shows. */
const SHOW_CHARS = 60
/** Deeper than this, a list or object is shown as [...] or {...}. */
const SHOW_DEPTH = 3

/**
 * The start of `value` for an error line: as written in the file when its text is at hand
 * (`1e400`, not the Infinity it parsed to; json-source.ts), else as JSON. Bounded in depth and
 * length on purpose: a file may hold a segmentation nested thousands of levels deep, which
 * JSON.stringify (and String(), its fallback) would recurse through until the stack overflows.
 */
export function showValue(value: unknown, source: string | undefined, path: JsonPath): string {
  const start = source === undefined ? -1 : locateJsonValue(source, path)
  const s = start >= 0 ? jsonSourcePreview(source as string, start, SHOW_CHARS, SHOW_DEPTH) : preview(value, 0)
  return s.length > SHOW_CHARS ? `${s.slice(0, SHOW_CHARS - 3)}...` : s
}

function preview(value: unknown, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > SHOW_CHARS ? value.slice(0, SHOW_CHARS) : value)
  // JSON.stringify writes Infinity and NaN as null; a parsed file holds them only from numbers
  // like 1e400, so String() says more (the source text, when there is one, says it exactly).
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (value === null || typeof value === 'boolean') return JSON.stringify(value)
  if (Array.isArray(value)) {
    if (depth >= SHOW_DEPTH) return value.length === 0 ? '[]' : '[...]'
    let out = '['
    for (let i = 0; i < value.length && out.length <= SHOW_CHARS; i++)
      out += (i > 0 ? ',' : '') + preview(value[i], depth + 1)
    return out.length > SHOW_CHARS ? out : `${out}]`
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value)
    if (depth >= SHOW_DEPTH) return keys.length === 0 ? '{}' : '{...}'
    let out = '{'
    for (let i = 0; i < keys.length && out.length <= SHOW_CHARS; i++) {
      out += `${i > 0 ? ',' : ''}${JSON.stringify(keys[i].slice(0, SHOW_CHARS))}:${preview((value as Record<string, unknown>)[keys[i]], depth + 1)}`
    }
    return out.length > SHOW_CHARS ? out : `${out}}`
  }
  return String(value) // undefined; JSON has no functions or symbols
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v)
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0
}

/** Names the encoding a byte-order mark (or zero bytes between characters) shows, or null. */
export function otherEncoding(bytes: Uint8Array): string | null {
  const [a, b, c, d] = bytes
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return 'UTF-32 (little-endian, with a byte-order mark)'
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return 'UTF-32 (big-endian, with a byte-order mark)'
  if (a === 0xff && b === 0xfe) return 'UTF-16 (little-endian, with a byte-order mark)'
  if (a === 0xfe && b === 0xff) return 'UTF-16 (big-endian, with a byte-order mark)'
  // JSON starts with an ASCII character: a zero byte beside it is UTF-16 or UTF-32 without a mark.
  if (bytes.length >= 2 && (a === 0 || b === 0)) return 'UTF-16 or UTF-32 (zero bytes between the characters)'
  return null
}

/** Offset of the first byte that does not belong to a valid UTF-8 sequence (only called when there is one). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const c = bytes[i]
    const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0
    if (len === 0 || !isUtf8(bytes.subarray(i, i + len)) || i + len > bytes.length) return i
    i += len
  }
  return -1
}

/**
 * The text of a COCO file's bytes. JSON is UTF-8 (RFC 8259); a UTF-8 byte-order mark, which
 * Windows editors write, is dropped without a word. Other encodings are refused, naming the
 * file and the encoding: decoded as UTF-8 they would become replacement characters, and file
 * names would silently stop matching.
 */
export function decodeCocoBytes(bytes: Uint8Array, file: string): string {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  const body = bom ? bytes.subarray(3) : bytes
  const other = bom ? null : otherEncoding(bytes)
  if (other) throw new UserError('coco-json', `${file}: the file is ${other} text; save it as UTF-8`)
  if (!isUtf8(body)) {
    const at = firstInvalidUtf8(body) + (bom ? 3 : 0)
    throw new UserError(
      'coco-json',
      `${file}: not UTF-8 text (byte 0x${bytes[at].toString(16).toUpperCase().padStart(2, '0')} at offset ${at} is not valid UTF-8; a Latin-1 or Windows-1252 file?); save it as UTF-8`,
    )
  }
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
}

export function parseCocoText(text: string, file: string): CocoDocument {
  let data: unknown
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (err) {
    // V8's parser is iterative today, but engines that recurse give up on deep nesting with a
    // RangeError, which says nothing about the file: name what is wrong with it instead.
    if (err instanceof RangeError)
      throw new UserError('coco-json', `${file}: the JSON is nested too deeply to read`, { cause: err })
    throw new UserError('coco-json', `${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`, {
      cause: err,
    })
  }
  return parseCoco(data, file, text)
}

/** A value of the entry being checked, by its path inside the entry, for an error line. */
type Show = (value: unknown, ...path: JsonPath) => string

/** The checks of one entry of each list: shared by the whole-document and the streaming reader. */
export class CocoChecker {
  readonly images: CocoImageEntry[] = []
  readonly imageById = new Map<number, CocoImageEntry>()
  readonly categories: CocoCategoryEntry[] = []
  readonly categoryById = new Map<number, CocoCategoryEntry>()
  private readonly annotationIds = new Map<number, number>()

  constructor(private readonly file: string) {}

  private fail(where: string, what: string): UserError {
    return new UserError('coco-invalid', `${this.file}: ${where}: ${what}`)
  }

  image(raw: unknown, index: number, show: Show): CocoImageEntry {
    const where = `images[${index}]`
    if (!isObject(raw)) throw this.fail(where, `${show(raw)} is not an object`)
    if (!isId(raw.id)) throw this.fail(where, `id ${show(raw.id, 'id')} is not an integer`)
    const at = `${where} (id ${raw.id})`
    if (this.imageById.has(raw.id))
      throw this.fail(at, `id ${raw.id} is also used by images[${this.imageById.get(raw.id)?.index}]`)
    if (typeof raw.file_name !== 'string' || raw.file_name.trim() === '')
      throw this.fail(at, `file_name ${show(raw.file_name, 'file_name')} is missing or empty`)
    const width = raw.width ?? null
    const height = raw.height ?? null
    if (width !== null && !isSize(width)) throw this.fail(at, `width ${show(width, 'width')} is not a positive integer`)
    if (height !== null && !isSize(height))
      throw this.fail(at, `height ${show(height, 'height')} is not a positive integer`)
    const entry: CocoImageEntry = {
      index,
      id: raw.id,
      fileName: raw.file_name,
      width: width as number | null,
      height: height as number | null,
    }
    this.images.push(entry)
    this.imageById.set(entry.id, entry)
    return entry
  }

  category(raw: unknown, index: number, show: Show): CocoCategoryEntry {
    const where = `categories[${index}]`
    if (!isObject(raw)) throw this.fail(where, `${show(raw)} is not an object`)
    if (!isId(raw.id)) throw this.fail(where, `id ${show(raw.id, 'id')} is not an integer`)
    const at = `${where} (id ${raw.id})`
    if (this.categoryById.has(raw.id))
      throw this.fail(at, `id ${raw.id} is also used by categories[${this.categoryById.get(raw.id)?.index}]`)
    if (raw.name === undefined || raw.name === null) throw this.fail(at, 'name missing')
    if (typeof raw.name !== 'string' || raw.name.trim() === '')
      throw this.fail(at, `name ${show(raw.name, 'name')} is not a non-empty text`)
    const sc = raw.supercategory
    if (sc !== undefined && sc !== null && typeof sc !== 'string')
      throw this.fail(at, `supercategory ${show(sc, 'supercategory')} is not text`)
    const entry: CocoCategoryEntry = {
      index,
      id: raw.id,
      name: raw.name.trim(),
      supercategory: typeof sc === 'string' && sc.trim() !== '' ? sc.trim() : null,
    }
    this.categories.push(entry)
    this.categoryById.set(entry.id, entry)
    return entry
  }

  /** After every image and category: they are what image_id and category_id must name. */
  annotation(raw: unknown, index: number, show: Show): CocoAnnotationEntry {
    const where = `annotations[${index}]`
    if (!isObject(raw)) throw this.fail(where, `${show(raw)} is not an object`)
    if (raw.id !== undefined && !isId(raw.id)) throw this.fail(where, `id ${show(raw.id, 'id')} is not an integer`)
    const id = raw.id === undefined ? null : (raw.id as number)
    const at = id === null ? where : `${where} (id ${id})`
    if (id !== null) {
      const earlier = this.annotationIds.get(id)
      if (earlier !== undefined) throw this.fail(at, `id ${id} is also used by annotations[${earlier}]`)
      this.annotationIds.set(id, index)
    }
    if (!isId(raw.image_id)) throw this.fail(at, `image_id ${show(raw.image_id, 'image_id')} is not an integer`)
    const image = this.imageById.get(raw.image_id)
    if (!image) throw this.fail(at, `image_id ${show(raw.image_id, 'image_id')} not in images`)
    if (!isId(raw.category_id))
      throw this.fail(at, `category_id ${show(raw.category_id, 'category_id')} is not an integer`)
    if (!this.categoryById.has(raw.category_id))
      throw this.fail(at, `category_id ${show(raw.category_id, 'category_id')} not in categories`)
    const iscrowd = raw.iscrowd === 1 || raw.iscrowd === true
    const geometry = parseGeometry(raw, image, (what) => this.fail(at, what), show)
    return { index, id, imageId: raw.image_id, categoryId: raw.category_id, geometry, iscrowd }
  }

  /** A top-level list that is missing or not a list. */
  checkList(key: string, present: boolean, value: unknown, show: Show): void {
    if (!present) throw this.fail(key, 'missing (a COCO instance file has images, categories and annotations)')
    if (!Array.isArray(value)) throw this.fail(key, `is ${show(value)}, not a list`)
  }
}

export const COCO_LISTS = ['images', 'categories', 'annotations'] as const

/**
 * Checks a parsed COCO document. `source`, the text it was parsed from, lets error lines show
 * values as written (see showValue()).
 */
export function parseCoco(data: unknown, file: string, source?: string): CocoDocument {
  const showAt =
    (...prefix: JsonPath): Show =>
    (value, ...path) =>
      showValue(value, source, [...prefix, ...path])
  if (!isObject(data)) throw new UserError('coco-invalid', `${file}: not a COCO file (the top level is not an object)`)
  const check = new CocoChecker(file)
  for (const key of COCO_LISTS) check.checkList(key, data[key] !== undefined, data[key], showAt(key))
  ;(data.images as unknown[]).forEach((raw, index) => check.image(raw, index, showAt('images', index)))
  ;(data.categories as unknown[]).forEach((raw, index) => check.category(raw, index, showAt('categories', index)))
  const annotations = (data.annotations as unknown[]).map((raw, index) =>
    check.annotation(raw, index, showAt('annotations', index)),
  )
  return { images: check.images, categories: check.categories, annotations }
}

function parseGeometry(
  raw: Record<string, unknown>,
  image: CocoImageEntry,
  fail: (what: string) => UserError,
  /** A value of this annotation, by its path inside it, for an error line. */
  show: (value: unknown, ...path: JsonPath) => string,
): CocoGeometry {
  const seg = raw.segmentation
  const noSegmentation = seg === undefined || seg === null || (Array.isArray(seg) && seg.length === 0)
  if (noSegmentation) {
    const bbox = raw.bbox
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
      throw fail(`no segmentation, and bbox ${show(bbox, 'bbox')} is not [x, y, width, height]`)
    }
    if (bbox[2] <= 0 || bbox[3] <= 0) throw fail(`no segmentation, and bbox ${show(bbox, 'bbox')} is empty`)
    return { kind: 'bbox', bbox: [bbox[0], bbox[1], bbox[2], bbox[3]] }
  }
  if (Array.isArray(seg)) {
    const polygons: number[][] = []
    seg.forEach((ring: unknown, i) => {
      const name = seg.length === 1 ? 'segmentation polygon' : `segmentation polygon ${i}`
      if (!Array.isArray(ring)) throw fail(`${name} ${show(ring, 'segmentation', i)} is not a list of numbers`)
      const bad = ring.findIndex((v) => !isFiniteNumber(v))
      if (bad >= 0)
        throw fail(`${name} value ${bad} (${show(ring[bad], 'segmentation', i, bad)}) is not a finite number`)
      if (ring.length % 2 !== 0)
        throw fail(`${name} has an odd count of numbers (${ring.length}); it must be x, y pairs`)
      if (ring.length < 6)
        throw fail(`${name} has ${ring.length / 2} point${ring.length === 2 ? '' : 's'}; a polygon needs at least 3`)
      polygons.push(ring as number[])
    })
    return { kind: 'polygons', polygons }
  }
  if (!isObject(seg)) throw fail(`segmentation ${show(seg, 'segmentation')} is neither a list of polygons nor an RLE`)
  const size = seg.size
  if (!Array.isArray(size) || size.length !== 2 || !size.every(isSize)) {
    throw fail(
      `segmentation RLE size ${show(size, 'segmentation', 'size')} is not [height, width] in positive integers`,
    )
  }
  const [h, w] = size as [number, number]
  if ((image.height !== null && image.height !== h) || (image.width !== null && image.width !== w)) {
    throw fail(
      `segmentation RLE size [${h}, ${w}] does not match its image ([height, width] = [${image.height}, ${image.width}])`,
    )
  }
  const counts = seg.counts
  let rle: Rle
  if (typeof counts === 'string') {
    try {
      rle = rleFromString({ size: [h, w], counts })
    } catch (err) {
      throw fail(`segmentation RLE counts is not a valid compressed RLE (${(err as Error).message.split(': "')[0]})`)
    }
  } else if (Array.isArray(counts)) {
    const bad = counts.findIndex((c) => !(typeof c === 'number' && Number.isSafeInteger(c) && c >= 0))
    if (bad >= 0)
      throw fail(
        `segmentation RLE counts value ${bad} (${show(counts[bad], 'segmentation', 'counts', bad)}) is not an integer >= 0`,
      )
    rle = { size: [h, w], counts: counts as number[] }
    const problem = rleProblem(rle)
    if (problem !== null) throw fail(`segmentation ${problem}`)
  } else {
    throw fail(
      `segmentation RLE counts ${show(counts, 'segmentation', 'counts')} is neither a string nor a list of integers`,
    )
  }
  return { kind: 'rle', rle }
}
