// COCO import: labels made elsewhere land in a project, to be refined here.
//
// - The file is read in chunks and checked entry by entry (coco-read.ts): memory holds its images
//   and categories, never all its annotations nor the whole text. A malformed file changes
//   nothing, wherever in the file the fault is.
// - Images are matched by file_name as a path relative to the project folder, else by its base
//   name when exactly one project image has it. A '\' in file_name is first taken literally (on
//   Linux it is an ordinary character of a file name, and `export --coco` writes names as they
//   are); only when no project image has that literal name is it taken as the separator Windows
//   exporters write (`sub\img.png` -> `sub/img.png`). COCO images not in the project are skipped and
//   named in the result; so are images whose size differs from the project's (a different EXIF
//   frame would put every label in the wrong place) or is unknown.
// - Categories are merged by name (ignoring case, as the store compares names); new ones are
//   created with their supercategory.
// - Geometry is normalised as the exporter writes it: polygons clamped into the image and
//   rounded to 2 decimals, RLE compressed; area and bbox are recomputed from it, never taken
//   from the file. A bbox-only annotation becomes its rectangle.
// - An annotation identical to one already on the image (same category, same segmentation) is
//   skipped, so importing the same file twice does not double the labels.
// - Everything is written in one transaction: the import lands whole or not at all. It is
//   staged first (Project.stageImport: checked and collected without the write lock), in slices
//   of a few ms that yield to the event loop, so an import in the app's main process never
//   holds the windows or the lock for long; the commit is a few set-based statements. A failure
//   or a cancel (`signal`) leaves no trace, not even a category.

import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { CancelledError, UserError } from '../errors.ts'
import type { ImportStage } from '../project/project.ts'
import type { StoredAnnotation, Category, ProjectImage, Segmentation } from '../project/types.ts'
import { nameKey } from '../project/validate.ts'
import { rasterizeShape, rleToString } from '../segment/rle.ts'
import { checkRasterCost, maskMeasures } from '../segment/segmentation.ts'
import type { CocoAnnotationEntry, CocoCategoryEntry, CocoGeometry, CocoImageEntry } from './coco-parse.ts'
import { isEntryError, readCocoFile } from './coco-read.ts'
import { cleanRing, polygonsToShape } from './geometry.ts'
import type { ProgressCallback } from './source.ts'

/** The slice of `Project` an import needs. */
export interface ImportTarget {
  listImages(): ProjectImage[]
  listCategories(): Category[]
  listAnnotations(imageId: number): StoredAnnotation[]
  stageImport(): ImportStage
}

export interface CocoImportOptions {
  onProgress?: ProgressCallback
  /** Model id recorded on imported annotations (default 'coco-import'). */
  modelId?: string
  /** Stops the import between slices; nothing is written. */
  signal?: AbortSignal
  /** Bytes read from the file at a time (coco-read.ts; default 1 MiB). */
  chunkSize?: number
}

export interface SkippedImage {
  fileName: string
  reason: 'not-in-project' | 'size-differs' | 'size-unknown'
  detail: string
}

export interface CocoImportResult {
  file: string
  /** Annotations saved. */
  imported: number
  /** COCO images matched to project images. */
  matchedImages: number
  /** COCO images whose annotations were not imported, with why. */
  skippedImages: SkippedImage[]
  categoriesCreated: string[]
  skippedAnnotations: {
    /** On a skipped image. */
    onSkippedImages: number
    /** Nothing of the segmentation inside the image. */
    empty: number
    /** Already in the project (same image, category and segmentation). */
    duplicates: number
  }
  /** Imported from a bbox alone (no segmentation in the file). */
  fromBbox: number
  /** Marked iscrowd in the file; imported as ordinary annotations. */
  crowd: number
  durationMs: number
}

const PROGRESS_EVERY = 500
/** Work between two yields to the event loop (a slice ends after the entry that crosses it). */
const SLICE_MS = 8

function yieldToEventLoop(): Promise<void> {
  return new Promise((done) => setImmediate(done))
}

/**
 * What duplicates are compared by: a digest of category and segmentation, not the text itself,
 * which at a million annotations held hundreds of MB for the whole import.
 */
function sameKey(text: string): string {
  return createHash('sha1').update(text).digest('base64')
}

/** The key two category names must not share, exactly as the store compares them. */
function categoryKey(name: string): string {
  return nameKey(name.trim())
}

interface Prepared {
  segmentation: Segmentation
  area: number
  bbox: [number, number, number, number]
}

/** The geometry as it will be stored, with its measures; null when nothing is inside the image. */
function prepare(geometry: CocoGeometry, width: number, height: number): Prepared | null {
  if (geometry.kind === 'rle') {
    const { area, bbox } = maskMeasures(geometry.rle)
    if (area === 0) return null
    return { segmentation: rleToString(geometry.rle), area, bbox }
  }
  const rings =
    geometry.kind === 'bbox'
      ? [
          [
            geometry.bbox[0],
            geometry.bbox[1],
            geometry.bbox[0] + geometry.bbox[2],
            geometry.bbox[1],
            geometry.bbox[0] + geometry.bbox[2],
            geometry.bbox[1] + geometry.bbox[3],
            geometry.bbox[0],
            geometry.bbox[1] + geometry.bbox[3],
          ],
        ]
      : geometry.polygons
  const polygons: number[][] = []
  for (const ring of rings) {
    const clean = cleanRing(ring, width, height)
    if (clean) polygons.push(clean)
  }
  if (polygons.length === 0) return null
  checkRasterCost(polygons, width, 'segmentation')
  // Area and bbox by the one definition (segment/segmentation.ts): the rasterised pixel count.
  const { area, bbox } = maskMeasures(rasterizeShape(polygonsToShape(polygons), width, height))
  if (area === 0) return null
  return { segmentation: polygons, area, bbox }
}

function entryName(a: CocoAnnotationEntry): string {
  return a.id === null ? `annotations[${a.index}]` : `annotations[${a.index}] (id ${a.id})`
}

/** Why the COCO file could not be read, in words. */
function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOENT') return 'not found'
  if (code === 'EISDIR') return 'it is a folder, not a file'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  // Node refuses to make a string over ~512 MB: far beyond any COCO file of a project's size.
  if (code === 'ERR_STRING_TOO_LONG') return 'too large to read as text'
  return code ?? (err as Error)?.message ?? String(err)
}

/**
 * The project image a COCO file_name names (see the header: the literal path, then '\\' as a
 * separator, then a unique base name, literal before separated).
 */
function matchImage(
  fileName: string,
  byPath: Map<string, ProjectImage>,
  byBase: Map<string, ProjectImage | null>,
): ProjectImage | null {
  const literal = fileName.replace(/^\.\//, '')
  const separated = fileName.replace(/\\/g, '/').replace(/^\.\//, '')
  return (
    byPath.get(literal) ??
    byPath.get(separated) ??
    byBase.get(posix.basename(literal)) ??
    byBase.get(posix.basename(separated)) ??
    null
  )
}

export async function importCoco(
  project: ImportTarget,
  file: string,
  options: CocoImportOptions = {},
): Promise<CocoImportResult> {
  const started = performance.now()
  const modelId = options.modelId ?? 'coco-import'

  const result: CocoImportResult = {
    file,
    imported: 0,
    matchedImages: 0,
    skippedImages: [],
    categoriesCreated: [],
    skippedAnnotations: { onSkippedImages: 0, empty: 0, duplicates: 0 },
    fromBbox: 0,
    crowd: 0,
    durationMs: 0,
  }

  /** COCO image id -> project image, for the matched ones. */
  const target = new Map<number, ProjectImage>()
  const matchImages = (images: readonly CocoImageEntry[]): void => {
    // Exact relative path first, then a base name shared by exactly one image.
    const projectImages = project.listImages()
    const byPath = new Map(projectImages.map((i) => [i.path, i]))
    const byBase = new Map<string, ProjectImage | null>()
    for (const image of projectImages) {
      const base = posix.basename(image.path)
      byBase.set(base, byBase.has(base) ? null : image)
    }
    for (const entry of images) {
      const image = matchImage(entry.fileName, byPath, byBase)
      if (!image) {
        result.skippedImages.push({
          fileName: entry.fileName,
          reason: 'not-in-project',
          detail: 'no image with this path (or this unique file name) in the project',
        })
        continue
      }
      if (image.width === null || image.height === null) {
        result.skippedImages.push({
          fileName: entry.fileName,
          reason: 'size-unknown',
          detail: `${image.path}: ${image.error ?? 'size not read yet'}`,
        })
        continue
      }
      if (
        (entry.width !== null && entry.width !== image.width) ||
        (entry.height !== null && entry.height !== image.height)
      ) {
        result.skippedImages.push({
          fileName: entry.fileName,
          reason: 'size-differs',
          detail: `${entry.width}x${entry.height} in the file, ${image.width}x${image.height} in the project (EXIF-oriented)`,
        })
        continue
      }
      target.set(entry.id, image)
    }
    result.matchedImages = target.size
  }

  // Duplicates are found by category name, not id: a category of the file may not exist yet.
  const keyOfCategory = new Map(project.listCategories().map((c) => [c.id, categoryKey(c.name)]))
  const existingKeys = new Map<number, Set<string>>()
  const keysFor = (imageId: number): Set<string> => {
    let keys = existingKeys.get(imageId)
    if (!keys) {
      keys = new Set(
        project
          .listAnnotations(imageId)
          .map((a) => sameKey(`${keyOfCategory.get(a.categoryId)}|${JSON.stringify(a.segmentation)}`)),
      )
      existingKeys.set(imageId, keys)
    }
    return keys
  }
  const cancelled = (): void => {
    if (options.signal?.aborted) throw new CancelledError(`${file}: the import was cancelled; nothing was imported`)
  }
  let slice = performance.now()
  /** Between two entries: lets the event loop run once this slice has had its SLICE_MS. */
  const sliceOver = (): boolean => performance.now() - slice > SLICE_MS
  const nextSlice = async (): Promise<void> => {
    await yieldToEventLoop()
    cancelled()
    slice = performance.now()
  }

  // The count of annotations is known only at the end: progress estimates it from the bytes read.
  let bytesRead = 0
  let fileSize = 0
  let done = 0
  const estimate = (): number => (bytesRead > 0 ? Math.max(done, Math.round((done * fileSize) / bytesRead)) : done)
  const categoryFor = new Map<number, { position: number; key: string }>()

  const addCategories = async (stage: ImportStage, categories: readonly CocoCategoryEntry[]): Promise<void> => {
    // Merged by name; every category of the file exists afterwards.
    for (const c of categories) {
      if (sliceOver()) await nextSlice()
      try {
        const position = stage.addCategory({ name: c.name, supercategory: c.supercategory })
        categoryFor.set(c.id, { position, key: categoryKey(c.name) })
      } catch (err) {
        if (err instanceof UserError)
          throw new UserError(err.code, `${file}: categories[${c.index}] (id ${c.id}): ${err.message}`, {
            cause: err,
          })
        throw err
      }
    }
  }

  const addAnnotation = (stage: ImportStage, a: CocoAnnotationEntry): void => {
    const image = target.get(a.imageId)
    if (!image) {
      result.skippedAnnotations.onSkippedImages++
      return
    }
    let prepared: Prepared | null
    try {
      prepared = prepare(a.geometry, image.width as number, image.height as number)
    } catch (err) {
      if (err instanceof UserError)
        throw new UserError(err.code, `${file}: ${entryName(a)}: ${err.message}`, { cause: err })
      throw err
    }
    if (!prepared) {
      result.skippedAnnotations.empty++
      return
    }
    const category = categoryFor.get(a.categoryId) as { position: number; key: string }
    const keys = keysFor(image.id)
    const key = sameKey(`${category.key}|${JSON.stringify(prepared.segmentation)}`)
    if (keys.has(key)) {
      result.skippedAnnotations.duplicates++
      return
    }
    try {
      stage.addAnnotation({
        imageId: image.id,
        categoryId: category.position,
        ...prepared,
        score: null,
        prompt: null,
        modelId,
      })
    } catch (err) {
      if (err instanceof UserError)
        throw new UserError(err.code, `${file}: ${entryName(a)}: ${err.message}`, { cause: err })
      throw err
    }
    keys.add(key)
    result.imported++
    if (a.geometry.kind === 'bbox') result.fromBbox++
    if (a.iscrowd) result.crowd++
  }

  const stage = project.stageImport()
  try {
    // The first fault of an entry is held while the rest of the file is read: broken JSON or a
    // missing list further on is what the whole-document parser reported, and still is.
    let failure: UserError | null = null
    try {
      const events = readCocoFile(file, {
        chunkSize: options.chunkSize,
        onRead: (bytes, size) => {
          bytesRead = bytes
          fileSize = size
        },
      })
      for await (const event of events) {
        if (sliceOver()) await nextSlice()
        if (failure) continue
        try {
          if (event.kind === 'head') {
            matchImages(event.images)
            options.onProgress?.(0, estimate())
            await addCategories(stage, event.categories)
            continue
          }
          if (++done % PROGRESS_EVERY === 0) options.onProgress?.(done, estimate())
          addAnnotation(stage, event.entry)
        } catch (err) {
          if (!(err instanceof UserError) || err instanceof CancelledError) throw err
          failure = err
        }
      }
    } catch (err) {
      if (failure && isEntryError(err)) throw failure
      // Only a failure to read the file is about the file; anything else keeps its own message.
      if (err instanceof UserError || !(err as NodeJS.ErrnoException)?.syscall) throw err
      throw new UserError('coco-file', `${file}: cannot read the COCO file (${readFailure(err)})`, { cause: err })
    }
    if (failure) throw failure
    cancelled()
    result.categoriesCreated = (await stage.commit()).categoriesCreated
  } finally {
    stage.discard()
  }
  options.onProgress?.(done, done)
  result.durationMs = performance.now() - started
  return result
}
