// COCO instance-segmentation export: streams a project's images, categories and annotations
// into one JSON file, atomically (see atomic-file.ts). Memory stays at one page of annotations
// plus a map of image sizes, whatever the project's size.
//
// The file: `info` (with the coordinate convention), `licenses: []`, `images` (id, file_name =
// path relative to the project folder, width, height), `categories` (id, name, supercategory),
// `annotations` (id, image_id, category_id, segmentation, area, bbox, iscrowd 0). Ids are the
// database ids, so they are stable from one export to the next. One entry per line, so two
// exports diff line by line.
//
// A source with files (a Project) is guarded: a target that is one of its images, its database
// or its data folder is refused before anything is written (write-guard.ts).

import { UserError } from '../errors.ts'
import { AtomicTextWriter } from './atomic-file.ts'
import { exportGeometry, type ExportGeometry, type SegmentationMode } from './geometry.ts'
import type { ExportSource, ProgressCallback } from './source.ts'
import { WriteGuard } from './write-guard.ts'

export const COORDINATE_NOTE =
  'Coordinates are image pixels in the EXIF-oriented frame (as the image is displayed). ' +
  'Pixel (0,0) covers [0,1)x[0,1); polygon vertices are continuous coordinates in that frame, ' +
  'so a polygon around the whole image runs from 0 to width and 0 to height. ' +
  'area is the pixel count of the mask (pixel centres inside), bbox is [x, y, width, height] of that mask.'

export interface CocoInfoOverrides {
  description?: string
  version?: string
  contributor?: string
  url?: string
}

export interface CocoExportOptions {
  /** 'auto' (default): polygons, RLE for objects with holes; 'polygon': holes dropped; 'rle': all RLE. */
  segmentation?: SegmentationMode
  onProgress?: ProgressCallback
  info?: CocoInfoOverrides
}

export interface CocoExportResult {
  file: string
  images: number
  categories: number
  annotations: number
  /** Images left out because their size is unknown (unreadable, or header not read yet). */
  skippedImages: number
  /** The first few of those, relative paths. */
  skippedImagePaths: string[]
  /** Exported images whose file was not found by the last scan (their labels are kept). */
  missingImages: number
  skippedAnnotations: {
    /** On an image that was left out. */
    onSkippedImages: number
    /** Nothing of the segmentation inside the image (no valid polygon, no pixel). */
    empty: number
    /** A stored RLE whose size no longer matches the image (the file was replaced). */
    sizeMismatch: number
    /** Category no longer known. */
    unknownCategory: number
    /** A stored segmentation that is not a mask of its image (e.g. RLE runs that do not cover it). */
    invalid: number
  }
  /** Ids of the invalid annotations (the first 20), so the user can find and delete them. */
  invalidAnnotationIds: number[]
  /** Annotations written as polygons without their holes ('polygon' mode only). */
  annotationsWithHolesDropped: number
  holesDropped: number
  durationMs: number
}

const MODES: readonly SegmentationMode[] = ['auto', 'polygon', 'rle']
const SKIPPED_PATHS_SHOWN = 20
/** How often (in annotations) progress is reported. */
const PROGRESS_EVERY = 1000

/**
 * A 2-decimal coordinate (as cleanRing makes them) as JSON prints it. About twice as fast as
 * JSON.stringify's shortest round-trip formatting, which dominated the export's time.
 */
function formatCoordinate(v: number): string {
  const n = Math.round(v * 100)
  if (n % 100 === 0) return String(n / 100)
  const a = n < 0 ? -n : n
  const whole = Math.floor(a / 100)
  const frac = a - whole * 100
  return `${n < 0 ? '-' : ''}${whole}${frac % 10 === 0 ? `.${frac / 10}` : frac < 10 ? `.0${frac}` : `.${frac}`}`
}

function annotationEntry(
  id: number,
  imageId: number,
  categoryId: number,
  geometry: ExportGeometry,
  storedJson?: string,
): string {
  let seg: string
  if (geometry.verbatim && storedJson !== undefined) {
    // Unchanged polygons: the stored text is already the JSON to write (a third of the export's
    // time went into formatting numbers that were read from that very text).
    seg = storedJson
  } else if (Array.isArray(geometry.segmentation)) {
    // join() builds flat strings; `+=` would build ropes that survive young-generation GCs.
    const rings: string[] = []
    for (const ring of geometry.segmentation) {
      const values: string[] = new Array(ring.length)
      for (let i = 0; i < ring.length; i++) values[i] = formatCoordinate(ring[i])
      rings.push(`[${values.join(',')}]`)
    }
    seg = `[${rings.join(',')}]`
  } else {
    seg = JSON.stringify(geometry.segmentation)
  }
  const [x, y, w, h] = geometry.bbox
  return `{"id":${id},"image_id":${imageId},"category_id":${categoryId},"segmentation":${seg},"area":${geometry.area},"bbox":[${x},${y},${w},${h}],"iscrowd":0}`
}

/** Every annotation an export left out, whatever the reason. */
export function skippedAnnotationTotal(s: CocoExportResult['skippedAnnotations']): number {
  return s.onSkippedImages + s.empty + s.sizeMismatch + s.unknownCategory + s.invalid
}

export async function exportCoco(
  source: ExportSource,
  outFile: string,
  options: CocoExportOptions = {},
): Promise<CocoExportResult> {
  const started = performance.now()
  const mode = options.segmentation ?? 'auto'
  if (!MODES.includes(mode))
    throw new UserError('invalid-value', `segmentation ${JSON.stringify(mode)} is not one of ${MODES.join(', ')}`)

  const result: CocoExportResult = {
    file: outFile,
    images: 0,
    categories: 0,
    annotations: 0,
    skippedImages: 0,
    skippedImagePaths: [],
    missingImages: 0,
    skippedAnnotations: { onSkippedImages: 0, empty: 0, sizeMismatch: 0, unknownCategory: 0, invalid: 0 },
    invalidAnnotationIds: [],
    annotationsWithHolesDropped: 0,
    holesDropped: 0,
    durationMs: 0,
  }
  const images = source.listImages()
  if (source.folder !== undefined)
    new WriteGuard({ folder: source.folder, dbPath: source.dbPath, images }).check(outFile, 'file')
  const total = source.counts?.().annotations ?? 0
  options.onProgress?.(0, total)

  const writer = await AtomicTextWriter.create(outFile)
  try {
    const info = {
      description: options.info?.description ?? 'Exported by SAM Annotator',
      version: options.info?.version ?? '1.0',
      year: new Date().getUTCFullYear(),
      contributor: options.info?.contributor ?? '',
      url: options.info?.url ?? '',
      date_created: new Date().toISOString(),
      coordinates: COORDINATE_NOTE,
    }
    writer.write(`{"info":${JSON.stringify(info)},\n"licenses":[],\n"images":[`)

    // Only the sizes of exported images are kept: what annotations need, ~50 bytes per image.
    const sizes = new Map<number, { width: number; height: number }>()
    let first = true
    for (const image of images) {
      const { width, height } = image
      if (width === null || height === null || !(width > 0 && height > 0)) {
        result.skippedImages++
        if (result.skippedImagePaths.length < SKIPPED_PATHS_SHOWN) result.skippedImagePaths.push(image.path)
        continue
      }
      if (image.missing) result.missingImages++
      sizes.set(image.id, { width, height })
      const entry = JSON.stringify({ id: image.id, file_name: image.path, width, height })
      if (writer.write(first ? `\n${entry}` : `,\n${entry}`)) await writer.flush()
      first = false
    }
    result.images = sizes.size

    writer.write('\n],\n"categories":[')
    const categories = [...source.listCategories()].sort((a, b) => a.order - b.order || a.id - b.id)
    const knownCategories = new Set<number>()
    categories.forEach((c, i) => {
      knownCategories.add(c.id)
      const entry = JSON.stringify({ id: c.id, name: c.name, supercategory: c.supercategory ?? '' })
      writer.write(i === 0 ? `\n${entry}` : `,\n${entry}`)
    })
    result.categories = categories.length

    writer.write('\n],\n"annotations":[')
    first = true
    let seen = 0
    for (const annotation of source.iterateAnnotationGeometry()) {
      seen++
      if (seen % PROGRESS_EVERY === 0) options.onProgress?.(seen, Math.max(total, seen))
      const size = sizes.get(annotation.imageId)
      if (!size) {
        result.skippedAnnotations.onSkippedImages++
        continue
      }
      if (!knownCategories.has(annotation.categoryId)) {
        result.skippedAnnotations.unknownCategory++
        continue
      }
      const seg = annotation.segmentation
      if (!Array.isArray(seg) && (seg.size[0] !== size.height || seg.size[1] !== size.width)) {
        result.skippedAnnotations.sizeMismatch++
        continue
      }
      const stored =
        annotation.area !== undefined && annotation.bbox !== undefined
          ? { area: annotation.area, bbox: annotation.bbox }
          : undefined
      let geometry: ExportGeometry | null
      try {
        geometry = exportGeometry(seg, size.width, size.height, mode, stored)
      } catch (err) {
        // A stored mask that is not one (written by an older build or by hand): left out and
        // named, never written and never a reason to lose the whole export.
        if (!(err instanceof RangeError)) throw err
        result.skippedAnnotations.invalid++
        if (result.invalidAnnotationIds.length < 20) result.invalidAnnotationIds.push(annotation.id)
        continue
      }
      if (geometry === null) {
        result.skippedAnnotations.empty++
        continue
      }
      if (geometry.droppedHoles > 0) {
        result.annotationsWithHolesDropped++
        result.holesDropped += geometry.droppedHoles
      }
      const entry = annotationEntry(
        annotation.id,
        annotation.imageId,
        annotation.categoryId,
        geometry,
        annotation.segmentationJson,
      )
      result.annotations++
      if (writer.write(first ? `\n${entry}` : `,\n${entry}`)) await writer.flush()
      first = false
    }
    writer.write('\n]}\n')
    await writer.commit()
    options.onProgress?.(seen, Math.max(total, seen))
  } catch (err) {
    await writer.abort()
    throw err
  }
  result.durationMs = performance.now() - started
  return result
}
