// `eval`: how many clicks the model needs on a labelled dataset, by the standard protocol
// (clicks.ts). Every ground-truth object of a COCO file (polygons or RLE; crowd regions and
// box-only entries are not objects and are skipped) is segmented from scratch by simulated
// clicks, with the previous low-resolution mask fed back as `mask_input` exactly as the app
// does (the same PromptHistory). The predicted mask is upstream's: the chosen candidate's
// logits bilinearly resized to the image (or region) and thresholded at 0, which the app's
// polygon follows within IoU 0.99; it is computed on a window around the mask, never the whole
// image, so an 8000x6000 photo costs what its objects cost.
//
// Region modes:
// - off: one whole-image embedding per image, shared by its objects.
// - auto: a user zoomed to the object. The encoder sees a square centred on the object's
//   ground-truth box with side max(256, 3 x the box's longer side), clipped to the image; where
//   that clipped square is the whole image, the whole-image embedding serves instead.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { UserError } from '../errors.ts'
import { decodeCocoBytes, parseCocoText } from '../coco/coco-parse.ts'
import type { Engine } from '../segment/engine.ts'
import { LOW_RES_SIZE } from '../segment/model-interface.ts'
import { decodeImage, prepareDecoded, preprocessImage, readImageHeader } from '../segment/preprocess.ts'
import type { Embedding } from '../segment/prompt.ts'
import { frameOf, squareAround, type Region } from '../segment/region.ts'
import { rasterizeShape, rleToBbox, type Rle } from '../segment/rle.ts'
import { EMPTY_WINDOW, simulateClicks, type Click, type WindowMask } from './clicks.ts'

export type RegionMode = 'off' | 'auto'

/** The auto mode's square: at least this many pixels a side... */
export const AUTO_REGION_MIN_SIDE = 256
/** ...and this many times the box's longer side. */
export const AUTO_REGION_BOX_FACTOR = 3

export interface TruthObject {
  category: string
  /** The object's pixels on its bounding box. */
  truth: WindowMask
}

export interface TruthImage {
  file: string
  label: string
  width: number
  height: number
  objects: TruthObject[]
}

export interface TruthSet {
  images: TruthImage[]
  /** Entries that are not objects to click on: crowd regions, box-only, empty masks. */
  skipped: number
}

/** The mask of a column-major RLE, cut to its bounding box. */
export function rleWindow(rle: Rle): WindowMask {
  const [height] = rle.size
  const [bx, by, bw, bh] = rleToBbox(rle)
  if (bw === 0 || bh === 0) return { window: EMPTY_WINDOW, mask: new Uint8Array(0) }
  const window = { x0: bx, y0: by, x1: bx + bw, y1: by + bh }
  const mask = new Uint8Array(bw * bh)
  let pos = 0
  for (let j = 0; j < rle.counts.length; j++) {
    const c = rle.counts[j]
    if (j & 1) {
      // A run may span columns: set it a column segment at a time.
      let p = pos
      while (p < pos + c) {
        const x = Math.floor(p / height)
        const y = p - x * height
        const len = Math.min(pos + c - p, height - y)
        for (let k = 0; k < len; k++) mask[(y + k - by) * bw + (x - bx)] = 1
        p += len
      }
    }
    pos += c
  }
  return { window, mask }
}

/** Reads a COCO file's objects and checks each image against its file in `folder`. */
export async function loadTruth(folder: string, cocoFile: string): Promise<TruthSet> {
  let bytes: Buffer
  try {
    bytes = readFileSync(cocoFile)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code
    const why =
      code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'it is a folder, not a file' : (code ?? String(err))
    throw new UserError('coco-file', `${cocoFile}: cannot read the ground truth (${why})`, { cause: err })
  }
  const doc = parseCocoText(decodeCocoBytes(bytes, cocoFile), cocoFile)
  const categories = new Map(doc.categories.map((c) => [c.id, c.name]))
  const byImage = new Map<number, typeof doc.annotations>()
  for (const a of doc.annotations) {
    const list = byImage.get(a.imageId) ?? []
    list.push(a)
    byImage.set(a.imageId, list)
  }
  let skipped = 0
  const images: TruthImage[] = []
  for (const image of doc.images) {
    const annotations = byImage.get(image.id) ?? []
    if (annotations.length === 0) continue
    const file = join(folder, image.fileName)
    const { width, height } = await readImageHeader(file)
    if ((image.width !== null && image.width !== width) || (image.height !== null && image.height !== height)) {
      throw new UserError(
        'coco-invalid',
        `${cocoFile}: images[${image.index}] (id ${image.id}) says ${image.width}x${image.height}; ${file} is ${width}x${height}`,
      )
    }
    const objects: TruthObject[] = []
    for (const a of annotations) {
      const g = a.geometry
      if (a.iscrowd || g.kind === 'bbox') {
        skipped++
        continue
      }
      let rle: Rle
      if (g.kind === 'rle') {
        if (g.rle.size[0] !== height || g.rle.size[1] !== width)
          throw new UserError(
            'coco-invalid',
            `${cocoFile}: annotations[${a.index}]: RLE of size ${g.rle.size[1]}x${g.rle.size[0]} on the ${width}x${height} image ${image.fileName}`,
          )
        rle = g.rle
      } else {
        rle = rasterizeShape({ parts: g.polygons.map((outer) => ({ outer, holes: [] })) }, width, height)
      }
      const truth = rleWindow(rle)
      if (truth.mask.length === 0) {
        skipped++
        continue
      }
      objects.push({ category: categories.get(a.categoryId) ?? String(a.categoryId), truth })
    }
    if (objects.length > 0) images.push({ file, label: image.fileName, width, height, objects })
  }
  return { images, skipped }
}

/**
 * The chosen candidate's mask as upstream computes it (bilinear resize of the 256x256 logits
 * over the frame, align_corners = false, logit > 0), on the smallest window that can hold it.
 */
export function logitsMask(logits: Float32Array, frame: Region): WindowMask {
  const n = LOW_RES_SIZE
  let c0 = n,
    c1 = -1,
    r0 = n,
    r1 = -1
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (logits[r * n + c] > 0) {
        if (c < c0) c0 = c
        if (c > c1) c1 = c
        if (r < r0) r0 = r
        if (r > r1) r1 = r
      }
    }
  }
  if (c1 < 0) return { window: EMPTY_WINDOW, mask: new Uint8Array(0) }
  const fw = frame.x1 - frame.x0,
    fh = frame.y1 - frame.y0
  // A pixel reads cells floor(s) and floor(s)+1 at s = (p + 0.5) * n / size - 0.5: only pixels
  // with s in [c0 - 1, c1 + 1) can see a positive cell. One pixel of margin for rounding.
  const span = (lo: number, hi: number, size: number, origin: number): [number, number] => [
    origin + Math.max(0, Math.floor(((lo - 0.5) * size) / n - 0.5) - 1),
    origin + Math.min(size, Math.ceil(((hi + 1.5) * size) / n) + 1),
  ]
  const [x0, x1] = span(c0, c1, fw, frame.x0)
  const [y0, y1] = span(r0, r1, fh, frame.y0)
  const axis = (from: number, to: number, origin: number, size: number) => {
    const len = to - from
    const i0 = new Int32Array(len),
      i1 = new Int32Array(len),
      t = new Float32Array(len)
    for (let j = 0; j < len; j++) {
      const s = Math.min(Math.max(((from + j - origin + 0.5) * n) / size - 0.5, 0), n - 1)
      i0[j] = Math.floor(s)
      i1[j] = Math.min(i0[j] + 1, n - 1)
      t[j] = s - i0[j]
    }
    return { i0, i1, t }
  }
  const xs = axis(x0, x1, frame.x0, fw)
  const ys = axis(y0, y1, frame.y0, fh)
  const w = x1 - x0,
    h = y1 - y0
  const mask = new Uint8Array(w * h)
  for (let y = 0; y < h; y++) {
    const a = ys.i0[y] * n,
      b = ys.i1[y] * n,
      ty = ys.t[y]
    for (let x = 0; x < w; x++) {
      const tx = xs.t[x]
      const top = logits[a + xs.i0[x]] * (1 - tx) + logits[a + xs.i1[x]] * tx
      const bottom = logits[b + xs.i0[x]] * (1 - tx) + logits[b + xs.i1[x]] * tx
      if (top * (1 - ty) + bottom * ty > 0) mask[y * w + x] = 1
    }
  }
  return { window: { x0, y0, x1, y1 }, mask }
}

/** The auto mode's region for an object's box (see the top of this file); null: the whole image. */
export function autoRegion(box: Region, width: number, height: number): Region | null {
  const side = Math.max(AUTO_REGION_MIN_SIDE, AUTO_REGION_BOX_FACTOR * Math.max(box.x1 - box.x0, box.y1 - box.y0))
  return squareAround((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2, side, width, height)
}

export interface EvalOptions {
  maxClicks?: number
  region?: RegionMode
  onProgress?: (done: number, total: number) => void
}

export interface ObjectResult {
  category: string
  ious: number[]
}

export interface EvalSummary {
  objects: number
  noc: { '85': number; '90': number }
  failed: { '85': number; '90': number }
  miou: number[]
}

export interface EvalReport extends EvalSummary {
  secondsPerClick: number
  /** Encoder seconds per embedding computed (one per image with region off, per object with auto). */
  secondsPerEncode: number
  perCategory: Record<string, EvalSummary>
  /** Ground-truth entries that are not objects (crowd, box-only, empty). */
  skipped: number
}

/** Clicks to reach `threshold` (maxClicks when never). */
function clicksTo(ious: readonly number[], threshold: number, maxClicks: number): number {
  const i = ious.findIndex((v) => v >= threshold)
  return i < 0 ? maxClicks : i + 1
}

export function summarize(results: readonly ObjectResult[], maxClicks: number): EvalSummary {
  const n = results.length
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)
  const at = (threshold: number) => results.map((r) => clicksTo(r.ious, threshold, maxClicks))
  const failed = (threshold: number) => results.filter((r) => !r.ious.some((v) => v >= threshold)).length
  return {
    objects: n,
    noc: { '85': mean(at(0.85)), '90': mean(at(0.9)) },
    failed: { '85': failed(0.85), '90': failed(0.9) },
    miou: Array.from({ length: maxClicks }, (_, k) => mean(results.map((r) => r.ious[k]))),
  }
}

/**
 * The predictor of one object: every call decodes all clicks so far, refining the previous mask.
 * Its time is the decoder's (what a click costs the user once the embedding is there), not the
 * simulator's mask work.
 */
function predictorOf(
  engine: Engine,
  embedding: Embedding,
): (clicks: readonly Click[]) => Promise<WindowMask & { ms: number }> {
  const history = engine.prompt(embedding)
  const frame = frameOf(embedding)
  return async (clicks) => {
    const t0 = performance.now()
    const state = await history.decode({
      points: clicks.map((c) => ({ x: c.x + 0.5, y: c.y + 0.5, label: c.positive ? 1 : 0 })),
      box: null,
    })
    const ms = performance.now() - t0
    return { ...logitsMask(state.logits[state.chosen], frame), ms }
  }
}

export async function evaluate(engine: Engine, truth: TruthSet, options: EvalOptions = {}): Promise<EvalReport> {
  const maxClicks = options.maxClicks ?? 20
  const mode = options.region ?? 'off'
  const total = truth.images.reduce((n, i) => n + i.objects.length, 0)
  const results: ObjectResult[] = []
  let clickMs = 0,
    clicks = 0,
    encodeMs = 0,
    encodes = 0
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now()
    const out = await work()
    encodeMs += performance.now() - t0
    encodes++
    return out
  }
  options.onProgress?.(0, total)
  for (const image of truth.images) {
    let whole: Embedding | null = null
    const wholeEmbedding = async () =>
      (whole ??= await timed(async () => {
        const p = await preprocessImage(image.file)
        return engine.encodeTensor(p.tensor, p.width, p.height)
      }))
    const decoded = mode === 'auto' ? await decodeImage(image.file) : null
    for (const object of image.objects) {
      const region = decoded ? autoRegion(object.truth.window, image.width, image.height) : null
      const embedding =
        decoded && region
          ? await timed(async () => {
              const p = await prepareDecoded(decoded, region)
              return engine.encodeTensor(p.tensor, p.width, p.height, region)
            })
          : await wholeEmbedding()
      const run = await simulateClicks(object.truth, predictorOf(engine, embedding), maxClicks)
      clickMs += run.ms.reduce((a, b) => a + b, 0)
      clicks += run.ms.length
      results.push({ category: object.category, ious: run.ious })
      options.onProgress?.(results.length, total)
    }
  }
  const perCategory: Record<string, EvalSummary> = {}
  for (const name of [...new Set(results.map((r) => r.category))].sort()) {
    perCategory[name] = summarize(
      results.filter((r) => r.category === name),
      maxClicks,
    )
  }
  return {
    ...summarize(results, maxClicks),
    secondsPerClick: clicks === 0 ? 0 : clickMs / clicks / 1000,
    secondsPerEncode: encodes === 0 ? 0 : encodeMs / encodes / 1000,
    perCategory,
    skipped: truth.skipped,
  }
}
