// Ultralytics YOLO segmentation export. Layout written under `outDir`:
//
//   data.yaml                     path: <outDir>, train: images, val: images, names: {0: ..., 1: ...}
//   images/<relative path>        a symbolic link to the project's image (a copy where links
//                                 cannot be made, e.g. Windows without developer mode)
//   labels/<relative path>.txt    the image's extension replaced by .txt; one line per polygon:
//                                 `<class> x1 y1 x2 y2 ...`, coordinates divided by the image's
//                                 width and height (0..1, 6 decimals)
//   .sam-annotator-export.json    the files this export wrote (so the next one knows its own)
//
// Ultralytics finds an image's labels by replacing the last `/images/` in its path with
// `/labels/` and the extension with `.txt`; that is why the images are linked under `images/`.
// `class` is the category's index in the project's category order. Every exported image gets
// a label file, empty when it has no annotations (a background image). An annotation with
// several parts writes one line per part; YOLO polygons cannot have holes, so holes are dropped
// and counted; RLE masks are traced to their outline.
//
// All or nothing, like the COCO export: the whole dataset is written into a staging folder
// inside `outDir` and swapped in by renames (staging.ts). A failure at any point leaves the
// previous export exactly as it was. After a success the dataset is exactly this export:
// labels and links the previous export wrote for images no longer exported are gone, while
// files in labels/ or images/ that no export wrote are kept (a file at a path this export
// writes is replaced, as any export into that folder always has), and anything else in
// `outDir` is never touched.
//
// Streamed like the COCO export: one image's annotations at a time (YoloSource), its label file
// written before the next is read, so memory does not grow with the dataset; the work yields to
// the event loop every few ms, so an export in the app's main process never holds the windows.
//
// Every path the export will write or unlink is checked before the first one is touched, so a
// refused export leaves the disk as it was: none may be a project image, the database or its
// folder (write-guard.ts). One overlap is welcome: the usual layout `dataset/images` (the
// project) exported to `dataset`, where `images/` already is the image folder. Then the images
// are left where they are and only labels/ and data.yaml are swapped in (`imagesInPlace`).

import {
  closeSync,
  copyFileSync,
  fsyncSync,
  mkdirSync,
  openSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { UserError } from '../errors.ts'
import { fileError } from './file-errors.ts'
import { MANIFEST, StagedFolder } from './staging.ts'
import { outerPolygons } from './geometry.ts'
import type { ExportAnnotation, ExportImage, ExportSource, ProgressCallback } from './source.ts'
import { WriteGuard } from './write-guard.ts'

/** What the YOLO export reads: a `Project` is one. */
export interface YoloSource extends ExportSource {
  /** One image's annotations, in id order. */
  annotationGeometryOf(imageId: number): Iterable<ExportAnnotation>
}

/** Work between two yields to the event loop. */
const SLICE_MS = 8

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

/** Links (or copies) the project's image to `to` (a fresh path in the staging folder); returns true when it had to copy. */
function placeImage(from: string, to: string, mode: 'link' | 'copy'): boolean {
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

/** Creates `dir` and its missing ancestors; returns a function that removes those again when they are empty. */
function makeFolder(dir: string): () => void {
  const first = mkdirSync(dir, { recursive: true })
  return () => {
    if (first === undefined) return
    for (let d = dir; ; d = dirname(d)) {
      try {
        rmdirSync(d)
      } catch {
        return // not empty (or gone): keep it and everything above
      }
      if (d === first || dirname(d) === d) return
    }
  }
}

export async function exportYolo(
  source: YoloSource,
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
  const skipped: ExportImage[] = []
  const images = listed.filter((image) => {
    if (image.width === null || image.height === null || !(image.width > 0 && image.height > 0)) {
      result.skippedImages++
      if (result.skippedImagePaths.length < SKIPPED_PATHS_SHOWN) result.skippedImagePaths.push(image.path)
      skipped.push(image)
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
  guard.check(join(root, MANIFEST), 'folder')
  for (const image of images) {
    guard.check(labelFileOf(image), 'folder')
    if (!result.imagesInPlace) guard.check(imageLinkOf(image), 'folder')
  }
  // A file where the dataset folder should be would otherwise read as "the folder does not exist".
  let rootStat: ReturnType<typeof statSync> | undefined
  try {
    rootStat = statSync(root)
  } catch {
    rootStat = undefined
  }
  if (rootStat && !rootStat.isDirectory()) {
    throw new UserError('write-folder', `${root}: is a file, not a folder; choose a folder for the YOLO dataset`)
  }
  let removeMadeFolders: () => void
  try {
    removeMadeFolders = makeFolder(root)
  } catch (err) {
    throw fileError(root, 'create the export folder', err)
  }
  let staging: StagedFolder
  try {
    staging = await StagedFolder.create(root)
  } catch (err) {
    removeMadeFolders()
    throw fileError(root, 'create the export folder', err)
  }
  try {
    await writeDataset(staging, result, images, skipped, source, options, imagesMode)
  } catch (err) {
    staging.abort()
    removeMadeFolders()
    throw err
  }
  result.durationMs = performance.now() - started
  return result
}

/** The label file's lines for one image's annotations, counting what is left out. */
function labelLines(
  annotations: Iterable<ExportAnnotation>,
  image: ExportImage,
  classOf: ReadonlyMap<number, number>,
  result: YoloExportResult,
): string[] {
  const lines: string[] = []
  const w = image.width as number,
    h = image.height as number
  for (const annotation of annotations) {
    const cls = classOf.get(annotation.categoryId)
    if (cls === undefined) {
      result.skippedAnnotations++
      continue
    }
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
    for (const ring of polygons) {
      const values = new Array<string>(ring.length)
      for (let i = 0; i < ring.length; i += 2) {
        values[i] = (ring[i] / w).toFixed(6)
        values[i + 1] = (ring[i + 1] / h).toFixed(6)
      }
      lines.push(`${cls} ${values.join(' ')}`)
      result.polygons++
    }
    result.annotations++
  }
  return lines
}

/** Writes the dataset into the staging folder, then swaps it in. */
async function writeDataset(
  staging: StagedFolder,
  result: YoloExportResult,
  images: ExportImage[],
  skipped: ExportImage[],
  source: YoloSource,
  options: YoloExportOptions,
  imagesMode: 'link' | 'copy',
): Promise<void> {
  const root = result.outDir
  const labelRel = (image: { path: string }): string => `labels/${labelPath(image.path)}`
  const imageRel = (image: { path: string }): string => `images/${image.path}`
  const inStaging = (rel: string): string => join(staging.path, ...rel.split('/'))
  const categories = [...source.listCategories()].sort((a, b) => a.order - b.order || a.id - b.id)
  const classOf = new Map(categories.map((c, i) => [c.id, i]))

  const total = source.counts?.().annotations ?? 0
  let seen = 0
  let slice = performance.now()
  const pause = async (): Promise<void> => {
    if (performance.now() - slice <= SLICE_MS) return
    await new Promise((done) => setImmediate(done))
    slice = performance.now()
  }
  options.onProgress?.(0, total)
  // The annotations of images left out are counted, as left out, and nothing more.
  for (const image of skipped) {
    await pause()
    for (const _ of source.annotationGeometryOf(image.id)) {
      result.skippedAnnotations++
      seen++
    }
  }

  // The manifest lists every file written: two short strings per image, not the labels.
  const files: string[] = []
  const madeDirs = new Set<string>()
  const ensureDir = (dir: string): void => {
    if (madeDirs.has(dir)) return
    mkdirSync(dir, { recursive: true })
    madeDirs.add(dir)
  }
  ensureDir(inStaging('labels'))
  if (!result.imagesInPlace) ensureDir(inStaging('images'))
  for (const image of images) {
    await pause()
    const annotations = [...source.annotationGeometryOf(image.id)]
    const before = seen
    seen += annotations.length
    if (Math.floor(seen / 1000) > Math.floor(before / 1000)) options.onProgress?.(seen, Math.max(total, seen))
    const lines = labelLines(annotations, image, classOf, result)
    // Errors name the file where it would have landed: the staging folder is gone by then.
    let rel = labelRel(image)
    try {
      const labelFile = inStaging(rel)
      ensureDir(dirname(labelFile))
      // No temp file and no fsync per label: the staging folder is the temp, and a failure
      // anywhere before the swap removes it whole.
      writeFileSync(labelFile, lines.length > 0 ? `${lines.join('\n')}\n` : '', { flag: 'wx' })
      files.push(rel)
      if (!result.imagesInPlace) {
        rel = imageRel(image)
        const imageLink = inStaging(rel)
        ensureDir(dirname(imageLink))
        if (placeImage(join(options.imagesFolder, ...image.path.split('/')), imageLink, imagesMode))
          result.copiedImages++
        files.push(rel)
      }
    } catch (err) {
      throw fileError(join(root, ...rel.split('/')), 'write', err)
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
  try {
    const fd = openSync(inStaging('data.yaml'), 'wx')
    try {
      writeFileSync(fd, yaml, 'utf8') // loops until all is written, unlike one writeSync
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch (err) {
    throw fileError(result.dataYaml, 'write', err)
  }
  files.push('data.yaml')
  const entries = result.imagesInPlace ? ['labels', 'data.yaml'] : ['labels', 'images', 'data.yaml']
  try {
    await staging.commit(entries, files)
  } catch (err) {
    throw fileError((err as { path?: string }).path ?? root, 'replace', err)
  }
  options.onProgress?.(seen, Math.max(total, seen))
}
