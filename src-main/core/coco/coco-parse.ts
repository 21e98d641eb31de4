// Reads and checks a COCO instance-segmentation document before anything is imported. Every
// problem is a UserError naming the file and the offending entry by its index and id, e.g.
// `annotations[17] (id 9001): segmentation polygon 0 has 2 points`, so a user can find it.
// Geometry is normalised here: polygons as flat rings, RLE (compressed string or uncompressed
// counts) decoded to counts and checked against its size.

import { UserError } from '../errors.ts'
import { rleFromString, rleProblem, type Rle } from '../segment/rle.ts'

export interface CocoImageEntry {
  index: number
  id: number
  /** As written in the file, '\\' turned into '/'. */
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
 * The start of `value` as JSON, for an error line. Bounded in depth and length on purpose: a
 * file may hold a segmentation nested thousands of levels deep, which JSON.stringify (and
 * String(), its fallback) would recurse through until the stack overflows.
 */
function show(value: unknown): string {
  const s = preview(value, 0)
  return s.length > SHOW_CHARS ? `${s.slice(0, SHOW_CHARS - 3)}...` : s
}

function preview(value: unknown, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > SHOW_CHARS ? value.slice(0, SHOW_CHARS) : value)
  if (value === null || typeof value === 'number' || typeof value === 'boolean')
    return JSON.stringify(value) ?? String(value)
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

export function parseCocoText(text: string, file: string): CocoDocument {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    // V8's parser is iterative today, but engines that recurse give up on deep nesting with a
    // RangeError, which says nothing about the file: name what is wrong with it instead.
    if (err instanceof RangeError)
      throw new UserError('coco-json', `${file}: the JSON is nested too deeply to read`, { cause: err })
    throw new UserError('coco-json', `${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`, {
      cause: err,
    })
  }
  return parseCoco(data, file)
}

export function parseCoco(data: unknown, file: string): CocoDocument {
  const fail = (where: string, what: string): UserError => new UserError('coco-invalid', `${file}: ${where}: ${what}`)
  if (!isObject(data)) throw new UserError('coco-invalid', `${file}: not a COCO file (the top level is not an object)`)
  for (const key of ['images', 'categories', 'annotations'] as const) {
    if (data[key] === undefined)
      throw fail(key, 'missing (a COCO instance file has images, categories and annotations)')
    if (!Array.isArray(data[key])) throw fail(key, `is ${show(data[key])}, not a list`)
  }

  const images: CocoImageEntry[] = []
  const imageById = new Map<number, CocoImageEntry>()
  ;(data.images as unknown[]).forEach((raw, index) => {
    const where = `images[${index}]`
    if (!isObject(raw)) throw fail(where, `${show(raw)} is not an object`)
    if (!isId(raw.id)) throw fail(where, `id ${show(raw.id)} is not an integer`)
    const at = `${where} (id ${raw.id})`
    if (imageById.has(raw.id)) throw fail(at, `id ${raw.id} is also used by images[${imageById.get(raw.id)?.index}]`)
    if (typeof raw.file_name !== 'string' || raw.file_name.trim() === '')
      throw fail(at, `file_name ${show(raw.file_name)} is missing or empty`)
    const width = raw.width ?? null
    const height = raw.height ?? null
    if (width !== null && !isSize(width)) throw fail(at, `width ${show(width)} is not a positive integer`)
    if (height !== null && !isSize(height)) throw fail(at, `height ${show(height)} is not a positive integer`)
    const entry: CocoImageEntry = {
      index,
      id: raw.id,
      fileName: raw.file_name.replace(/\\/g, '/'),
      width: width as number | null,
      height: height as number | null,
    }
    images.push(entry)
    imageById.set(entry.id, entry)
  })

  const categories: CocoCategoryEntry[] = []
  const categoryById = new Map<number, CocoCategoryEntry>()
  ;(data.categories as unknown[]).forEach((raw, index) => {
    const where = `categories[${index}]`
    if (!isObject(raw)) throw fail(where, `${show(raw)} is not an object`)
    if (!isId(raw.id)) throw fail(where, `id ${show(raw.id)} is not an integer`)
    const at = `${where} (id ${raw.id})`
    if (categoryById.has(raw.id))
      throw fail(at, `id ${raw.id} is also used by categories[${categoryById.get(raw.id)?.index}]`)
    if (raw.name === undefined || raw.name === null) throw fail(at, 'name missing')
    if (typeof raw.name !== 'string' || raw.name.trim() === '')
      throw fail(at, `name ${show(raw.name)} is not a non-empty text`)
    const sc = raw.supercategory
    if (sc !== undefined && sc !== null && typeof sc !== 'string')
      throw fail(at, `supercategory ${show(sc)} is not text`)
    const entry: CocoCategoryEntry = {
      index,
      id: raw.id,
      name: raw.name.trim(),
      supercategory: typeof sc === 'string' && sc.trim() !== '' ? sc.trim() : null,
    }
    categories.push(entry)
    categoryById.set(entry.id, entry)
  })

  const annotations: CocoAnnotationEntry[] = []
  const annotationIds = new Map<number, number>()
  ;(data.annotations as unknown[]).forEach((raw, index) => {
    const where = `annotations[${index}]`
    if (!isObject(raw)) throw fail(where, `${show(raw)} is not an object`)
    if (raw.id !== undefined && !isId(raw.id)) throw fail(where, `id ${show(raw.id)} is not an integer`)
    const id = raw.id === undefined ? null : (raw.id as number)
    const at = id === null ? where : `${where} (id ${id})`
    if (id !== null) {
      const earlier = annotationIds.get(id)
      if (earlier !== undefined) throw fail(at, `id ${id} is also used by annotations[${earlier}]`)
      annotationIds.set(id, index)
    }
    if (!isId(raw.image_id)) throw fail(at, `image_id ${show(raw.image_id)} is not an integer`)
    const image = imageById.get(raw.image_id)
    if (!image) throw fail(at, `image_id ${raw.image_id} not in images`)
    if (!isId(raw.category_id)) throw fail(at, `category_id ${show(raw.category_id)} is not an integer`)
    if (!categoryById.has(raw.category_id)) throw fail(at, `category_id ${raw.category_id} not in categories`)
    const iscrowd = raw.iscrowd === 1 || raw.iscrowd === true
    const geometry = parseGeometry(raw, image, (what) => fail(at, what))
    annotations.push({ index, id, imageId: raw.image_id, categoryId: raw.category_id, geometry, iscrowd })
  })

  return { images, categories, annotations }
}

function parseGeometry(
  raw: Record<string, unknown>,
  image: CocoImageEntry,
  fail: (what: string) => UserError,
): CocoGeometry {
  const seg = raw.segmentation
  const noSegmentation = seg === undefined || seg === null || (Array.isArray(seg) && seg.length === 0)
  if (noSegmentation) {
    const bbox = raw.bbox
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
      throw fail(`no segmentation, and bbox ${show(bbox)} is not [x, y, width, height]`)
    }
    if (bbox[2] <= 0 || bbox[3] <= 0) throw fail(`no segmentation, and bbox ${show(bbox)} is empty`)
    return { kind: 'bbox', bbox: [bbox[0], bbox[1], bbox[2], bbox[3]] }
  }
  if (Array.isArray(seg)) {
    const polygons: number[][] = []
    seg.forEach((ring: unknown, i) => {
      const name = seg.length === 1 ? 'segmentation polygon' : `segmentation polygon ${i}`
      if (!Array.isArray(ring)) throw fail(`${name} ${show(ring)} is not a list of numbers`)
      const bad = ring.findIndex((v) => !isFiniteNumber(v))
      if (bad >= 0) throw fail(`${name} value ${bad} (${show(ring[bad])}) is not a finite number`)
      if (ring.length % 2 !== 0)
        throw fail(`${name} has an odd count of numbers (${ring.length}); it must be x, y pairs`)
      if (ring.length < 6)
        throw fail(`${name} has ${ring.length / 2} point${ring.length === 2 ? '' : 's'}; a polygon needs at least 3`)
      polygons.push(ring as number[])
    })
    return { kind: 'polygons', polygons }
  }
  if (!isObject(seg)) throw fail(`segmentation ${show(seg)} is neither a list of polygons nor an RLE`)
  const size = seg.size
  if (!Array.isArray(size) || size.length !== 2 || !size.every(isSize)) {
    throw fail(`segmentation RLE size ${show(size)} is not [height, width] in positive integers`)
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
    if (bad >= 0) throw fail(`segmentation RLE counts value ${bad} (${show(counts[bad])}) is not an integer >= 0`)
    rle = { size: [h, w], counts: counts as number[] }
    const problem = rleProblem(rle)
    if (problem !== null) throw fail(`segmentation ${problem}`)
  } else {
    throw fail(`segmentation RLE counts ${show(counts)} is neither a string nor a list of integers`)
  }
  return { kind: 'rle', rle }
}
