// `sam-annotator eval`: how many clicks the model needs on a labelled folder, by the standard
// click simulator (click-simulator.ts) over every ground-truth object of a COCO file. Each
// object is prompted as a user of the app would: the clicks so far go through one prompt
// history, which feeds the previous low-resolution mask back as the decoder's mask input; the
// prediction after each click is the shown candidate's polygons rasterised at image size.

import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UserError } from '../errors.ts'
import { decodeCocoBytes, parseCocoText, type CocoAnnotationEntry } from '../coco/coco-parse.ts'
import type { Engine } from '../segment/engine.ts'
import { rasterizeShape, rleDecode } from '../segment/rle.ts'
import { clicksToReach, firstClick, iou, nextClick, type SimulatedClick } from './click-simulator.ts'

export const EVAL_THRESHOLDS = [85, 90] as const

export interface EvalOptions {
  /** Clicks per object (N); NoC is N for an object that never reaches the IoU. */
  maxClicks: number
  onProgress?: (done: number, total: number) => void
}

export interface EvalSummary {
  objects: number
  noc: Record<'85' | '90', number>
  failed: Record<'85' | '90', number>
  /** Mean IoU after click 1..N. */
  miou: number[]
}

export interface EvalReport extends EvalSummary {
  secondsPerClick: number
  perCategory: Record<string, EvalSummary>
  /** Annotations not evaluated, with why (crowd regions, boxes without a mask). */
  skipped: { crowd: number; boxOnly: number }
}

interface ObjectResult {
  category: string
  ious: number[]
}

function summarise(results: readonly ObjectResult[], maxClicks: number): EvalSummary {
  const n = results.length
  const noc = { '85': 0, '90': 0 }
  const failed = { '85': 0, '90': 0 }
  const miou = Array.from({ length: maxClicks }, () => 0)
  for (const r of results) {
    for (const t of EVAL_THRESHOLDS) {
      const k = clicksToReach(r.ious, t / 100, maxClicks)
      noc[t] += k
      if (!r.ious.some((v) => v >= t / 100)) failed[t]++
    }
    r.ious.forEach((v, i) => (miou[i] += v))
  }
  return {
    objects: n,
    noc: { '85': n === 0 ? 0 : noc['85'] / n, '90': n === 0 ? 0 : noc['90'] / n },
    failed,
    miou: miou.map((s) => (n === 0 ? 0 : s / n)),
  }
}

/** The truth of one annotation as a row-major mask of the image. */
function truthMask(entry: CocoAnnotationEntry, width: number, height: number): Uint8Array | null {
  const g = entry.geometry
  if (g.kind === 'polygons') {
    return rleDecode(rasterizeShape({ parts: g.polygons.map((outer) => ({ outer, holes: [] })) }, width, height))
  }
  if (g.kind === 'rle') {
    if (g.rle.size[0] !== height || g.rle.size[1] !== width) return null
    return rleDecode(g.rle)
  }
  return null
}

export async function evaluateFolder(
  engine: Engine,
  folder: string,
  truthFile: string,
  options: EvalOptions,
): Promise<EvalReport> {
  let bytes: Buffer
  try {
    bytes = await readFile(truthFile)
  } catch (err) {
    throw new UserError('coco-file', `${truthFile}: cannot read (${(err as Error).message})`, { cause: err })
  }
  const doc = parseCocoText(decodeCocoBytes(bytes, truthFile), truthFile)
  const categories = new Map(doc.categories.map((c) => [c.id, c.name]))
  const byImage = new Map<number, CocoAnnotationEntry[]>()
  const skipped = { crowd: 0, boxOnly: 0 }
  for (const a of doc.annotations) {
    if (a.iscrowd) skipped.crowd++
    else if (a.geometry.kind === 'bbox') skipped.boxOnly++
    else byImage.set(a.imageId, [...(byImage.get(a.imageId) ?? []), a])
  }
  const total = [...byImage.values()].reduce((n, list) => n + list.length, 0)
  if (total === 0) throw new UserError('coco-invalid', `${truthFile}: no object with a polygon or RLE mask to evaluate`)
  const results: ObjectResult[] = []
  let clickSeconds = 0
  let clicks = 0
  for (const image of doc.images) {
    const objects = byImage.get(image.id)
    if (objects === undefined) continue
    const file = join(folder, image.fileName)
    if (!existsSync(file) || !statSync(file).isFile())
      throw new UserError('image-missing', `${file}: not found (images[${image.index}] of ${truthFile})`)
    const { embedding } = await engine.encode(file)
    const { width, height } = embedding
    if ((image.width !== null && image.width !== width) || (image.height !== null && image.height !== height)) {
      throw new UserError(
        'coco-invalid',
        `${file}: the image is ${width}x${height}, ${truthFile} says ${image.width}x${image.height}`,
      )
    }
    for (const object of objects) {
      const truth = truthMask(object, width, height)
      if (truth === null || !truth.includes(1)) {
        throw new UserError(
          'coco-invalid',
          `${truthFile}: annotations[${object.index}] covers no pixel of the ${width}x${height} image ${image.fileName}`,
        )
      }
      const history = engine.prompt(embedding)
      const points: SimulatedClick[] = []
      const ious: number[] = []
      let click = firstClick(truth, width, height)
      for (let k = 0; k < options.maxClicks; k++) {
        if (click !== null) points.push(click)
        const t0 = performance.now()
        const state = await history.decode({ points: [...points], box: null })
        const { shape } = engine.shapeOf(state, width, height)
        clickSeconds += (performance.now() - t0) / 1000
        clicks++
        const predicted = rleDecode(rasterizeShape(shape, width, height))
        ious.push(iou(predicted, truth))
        // A perfect mask needs no more clicks: the rest of the curve stays where it is.
        click = nextClick(truth, predicted, width, height)
        if (click === null) {
          while (ious.length < options.maxClicks) ious.push(ious[ious.length - 1])
          break
        }
      }
      results.push({ category: categories.get(object.categoryId) ?? `category ${object.categoryId}`, ious })
      options.onProgress?.(results.length, total)
    }
  }
  const perCategory: Record<string, EvalSummary> = {}
  for (const name of [...new Set(results.map((r) => r.category))].sort()) {
    perCategory[name] = summarise(
      results.filter((r) => r.category === name),
      options.maxClicks,
    )
  }
  return {
    ...summarise(results, options.maxClicks),
    secondsPerClick: clicks === 0 ? 0 : clickSeconds / clicks,
    perCategory,
    skipped,
  }
}
