// Ultralytics YOLO segmentation export. Layout written under `outDir`:
//
//   data.yaml                     path: <outDir>, train: images, val: images, names: {0: ..., 1: ...}
//   images/<relative path>        a symbolic link to the project's image (a copy where links
//                                 cannot be made, e.g. Windows without developer mode)
//   labels/<relative path>.txt    the image's extension replaced by .txt; one line per polygon:
//                                 `<class> x1 y1 x2 y2 ...`, coordinates divided by the image's
//                                 width and height (0..1, 6 decimals)
//
// Ultralytics finds an image's labels by replacing the last `/images/` in its path with
// `/labels/` and the extension with `.txt`; that is why the images are linked under `images/`.
// `class` is the category's index in the project's category order. Every exported image gets
// a label file, empty when it has no annotations (a background image), so a stale label from
// an earlier export is always overwritten. An annotation with several parts writes one line per
// part; YOLO polygons cannot have holes, so holes are dropped and counted; RLE masks are traced
// to their outline. Each file is replaced atomically (temp file, rename).
//
// Every path the export will write or unlink is checked before the first one is touched, so a
// refused export leaves the disk as it was: none may be a project image, the database or its
// folder (write-guard.ts). One overlap is welcome: the usual layout `dataset/images` (the
// project) exported to `dataset`, where `images/` already is the image folder. Then the images
// are left where they are and only labels/ and data.yaml are written (`imagesInPlace`).

import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { UserError } from '../errors.ts'
import { fileError, writeFileAtomicSync } from './atomic-file.ts'
import { outerPolygons } from './geometry.ts'
import type { ExportAnnotation, ExportSource, ProgressCallback } from './source.ts'
import { WriteGuard } from './write-guard.ts'

export interface YoloExportOptions {
  /** Where the project's images are (Project.folder): linked under images/, and never written over. */
  imagesFolder: string
  /** 'link' (default): symbolic links, copies where links fail; 'copy': always copy. */
  images?: 'link' | 'copy'
  onProgress?: ProgressCallback
}

export interface YoloExportResult {
  outDir: string
  dataYaml: string
  images: number
  labelFiles: number
  /** Lines written (one per polygon). */
  polygons: number
  annotations: number
  /** Images left out because their size is unknown (unreadable). */
  skippedImages: number
  skippedImagePaths: string[]
  /** Annotations with nothing inside the image, or an RLE that no longer matches the image size. */
  skippedAnnotations: number
  annotationsWithHolesDropped: number
  holesDropped: number
  /** Images copied because a link could not be made. */
  copiedImages: number
  /** `<outDir>/images` is the image folder itself, so no image was linked or copied. */
  imagesInPlace: boolean
  durationMs: number
}

const SKIPPED_PATHS_SHOWN = 20

/** `a/b/c.jpg` -> `a/b/c.txt` (only the last extension goes). */
export function labelPath(relPath: string): string {
  const slash = relPath.lastIndexOf('/')
  const dot = relPath.lastIndexOf('.')
  return `${dot > slash ? relPath.slice(0, dot) : relPath}.txt`
}

function yamlString(s: string): string {
  return JSON.stringify(s) // a JSON string is a valid double-quoted YAML scalar
}

function safeRelative(rel: string): boolean {
  return rel.length > 0 && !rel.startsWith('/') && !rel.split('/').some((p) => p === '..' || p === '')
}

/** Links (or copies) the project's image to `to`; returns true when it had to copy. */
function placeImage(from: string, to: string, mode: 'link' | 'copy'): boolean {
  let existing: ReturnType<typeof lstatSync> | undefined
  try {
    existing = lstatSync(to)
  } catch {
    existing = undefined
  }
  if (existing?.isSymbolicLink() && mode === 'link' && readlinkSync(to) === from) return false
  if (existing) unlinkSync(to)
  if (mode === 'link') {
    try {
      symlinkSync(from, to)
      return false
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
    }
  }
  copyFileSync(from, to)
  return true
}

export async function exportYolo(
  source: ExportSource,
  outDir: string,
  options: YoloExportOptions,
): Promise<YoloExportResult> {
  const started = performance.now()
  const root = resolve(outDir)
  const imagesMode = options.images ?? 'link'
  const result: YoloExportResult = {
    outDir: root,
    dataYaml: join(root, 'data.yaml'),
    images: 0,
    labelFiles: 0,
    polygons: 0,
    annotations: 0,
    skippedImages: 0,
    skippedImagePaths: [],
    skippedAnnotations: 0,
    annotationsWithHolesDropped: 0,
    holesDropped: 0,
    copiedImages: 0,
    imagesInPlace: false,
    durationMs: 0,
  }

  const listed = source.listImages()
  const images = listed.filter((image) => {
    if (image.width === null || image.height === null || !(image.width > 0 && image.height > 0)) {
      result.skippedImages++
      if (result.skippedImagePaths.length < SKIPPED_PATHS_SHOWN) result.skippedImagePaths.push(image.path)
      return false
    }
    if (!safeRelative(image.path))
      throw new UserError(
        'invalid-value',
        `image path ${JSON.stringify(image.path)} is not a relative path inside the project`,
      )
    return true
  })
  // The images linked from imagesFolder are the ones to protect; a Project's database as well.
  const guard = new WriteGuard({ folder: options.imagesFolder, dbPath: source.dbPath, images: listed })
  result.imagesInPlace = guard.isImageFolder(join(root, 'images'))
  const labelFileOf = (image: { path: string }): string => join(root, 'labels', ...labelPath(image.path).split('/'))
  const imageLinkOf = (image: { path: string }): string => join(root, 'images', ...image.path.split('/'))
  guard.check(result.dataYaml, 'folder')
  for (const image of images) {
    guard.check(labelFileOf(image), 'folder')
    if (!result.imagesInPlace) guard.check(imageLinkOf(image), 'folder')
  }
  // A file where the dataset folder should be would otherwise read as "the folder does not exist".
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new UserError('write-folder', `${root}: is a file, not a folder; choose a folder for the YOLO dataset`)
  }
  try {
    mkdirSync(join(root, 'labels'), { recursive: true })
    mkdirSync(join(root, 'images'), { recursive: true })
  } catch (err) {
    throw fileError(root, 'create the export folder', err)
  }

  const categories = [...source.listCategories()].sort((a, b) => a.order - b.order || a.id - b.id)
  const classOf = new Map(categories.map((c, i) => [c.id, i]))

  // Label lines grouped per image. Lines are short strings (~ 0.5 KB per annotation), so even
  // 100,000 annotations stay well within memory; files are then written one image at a time.
  const lines = new Map<number, string[]>()
  const sizes = new Map(images.map((i) => [i.id, i]))
  const total = source.counts?.().annotations ?? 0
  let seen = 0
  options.onProgress?.(0, total)
  for (const annotation of source.iterateAnnotationGeometry() as Iterable<ExportAnnotation>) {
    if (++seen % 1000 === 0) options.onProgress?.(seen, Math.max(total, seen))
    const image = sizes.get(annotation.imageId)
    const cls = classOf.get(annotation.categoryId)
    if (!image || cls === undefined) {
      result.skippedAnnotations++
      continue
    }
    const w = image.width as number,
      h = image.height as number
    const seg = annotation.segmentation
    if (!Array.isArray(seg) && (seg.size[0] !== h || seg.size[1] !== w)) {
      result.skippedAnnotations++
      continue
    }
    let outer: ReturnType<typeof outerPolygons>
    try {
      outer = outerPolygons(seg, w, h)
    } catch (err) {
      // A stored mask that is not one (see exportCoco): left out, never a failed export.
      if (!(err instanceof RangeError)) throw err
      result.skippedAnnotations++
      continue
    }
    const { polygons, droppedHoles } = outer
    if (polygons.length === 0) {
      result.skippedAnnotations++
      continue
    }
    if (droppedHoles > 0) {
      result.annotationsWithHolesDropped++
      result.holesDropped += droppedHoles
    }
    let list = lines.get(image.id)
    if (!list) lines.set(image.id, (list = []))
    for (const ring of polygons) {
      const values = new Array<string>(ring.length)
      for (let i = 0; i < ring.length; i += 2) {
        values[i] = (ring[i] / w).toFixed(6)
        values[i + 1] = (ring[i + 1] / h).toFixed(6)
      }
      list.push(`${cls} ${values.join(' ')}`)
      result.polygons++
    }
    result.annotations++
  }

  const madeDirs = new Set<string>()
  const ensureDir = (dir: string): void => {
    if (madeDirs.has(dir)) return
    mkdirSync(dir, { recursive: true })
    madeDirs.add(dir)
  }
  for (const image of images) {
    const labelFile = labelFileOf(image)
    try {
      ensureDir(dirname(labelFile))
      const list = lines.get(image.id)
      writeFileAtomicSync(labelFile, list ? `${list.join('\n')}\n` : '', false)
      if (!result.imagesInPlace) {
        const imageLink = imageLinkOf(image)
        ensureDir(dirname(imageLink))
        if (placeImage(join(options.imagesFolder, ...image.path.split('/')), imageLink, imagesMode))
          result.copiedImages++
      }
    } catch (err) {
      throw fileError(labelFile, 'write', err)
    }
    result.labelFiles++
  }
  result.images = images.length

  const names = categories.map((c, i) => `  ${i}: ${yamlString(c.name)}`).join('\n')
  const yaml =
    `# Ultralytics YOLO segmentation dataset, written by SAM Annotator.\n` +
    `# Labels: labels/<image path>.txt, one polygon per line: class x1 y1 x2 y2 ... (normalised 0..1).\n` +
    `# Every image is used for both train and val; split them before training for real.\n` +
    `path: ${yamlString(root)}\n` +
    `train: images\n` +
    `val: images\n` +
    `names:${names ? `\n${names}` : ' {}'}\n`
  writeFileAtomicSync(result.dataYaml, yaml, true)
  options.onProgress?.(seen, Math.max(total, seen))
  result.durationMs = performance.now() - started
  return result
}
