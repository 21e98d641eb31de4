// Input checks for every mutating call of the project store. Inputs arrive from IPC, the CLI
// and COCO import, so they are checked as `unknown`-ish data here, once, and a bad value is
// refused with a UserError that names it (the schema's CHECK constraints are the second line).

import { UserError, type UserErrorCode } from '../errors.ts'
import {
  IMAGE_STATUSES,
  type AnnotationInput,
  type ImageStatus,
  type PromptRecord,
  type Segmentation,
} from './types.ts'

function bad(code: UserErrorCode, message: string): UserError {
  return new UserError(code, message)
}

function show(value: unknown): string {
  try {
    const s = JSON.stringify(value)
    if (s === undefined) return String(value)
    return s.length > 80 ? `${s.slice(0, 77)}...` : s
  } catch {
    return String(value)
  }
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

export function checkId(kind: 'image' | 'category' | 'annotation', id: unknown): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0)
    throw bad(`${kind}-id`, `${kind} id ${show(id)} is not a positive integer`)
  return id
}

export function checkStatus(status: unknown): ImageStatus {
  if (!IMAGE_STATUSES.includes(status as ImageStatus))
    throw bad('image-status', `image status ${show(status)} is not one of ${IMAGE_STATUSES.join(', ')}`)
  return status as ImageStatus
}

/** Trimmed, non-empty, at most 200 characters. */
export function checkName(kind: 'category', name: unknown): string {
  if (typeof name !== 'string') throw bad(`${kind}-name`, `${kind} name ${show(name)} is not text`)
  const trimmed = name.trim()
  if (trimmed.length === 0) throw bad(`${kind}-name`, `${kind} name ${show(name)} is empty`)
  if (trimmed.length > 200) throw bad(`${kind}-name`, `${kind} name ${show(name)} is longer than 200 characters`)
  return trimmed
}

/** The key two category names must not share: Unicode-normalised and case-folded. */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/** Accepts '#rrggbb' (any case), stores lower case. */
export function checkColor(color: unknown): string {
  if (typeof color !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(color))
    throw bad('category-color', `colour ${show(color)} is not of the form #rrggbb`)
  return color.toLowerCase()
}

export function checkOptionalText(what: string, value: unknown): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') throw bad('invalid-value', `${what} ${show(value)} is not text`)
  const trimmed = value.trim()
  return trimmed.length > 0 ? trimmed : null
}

// COCO compressed RLE uses the characters 48..111 ('0'..'o').
const RLE_COUNTS = /^[0-o]+$/

export function checkSegmentation(seg: unknown): Segmentation {
  if (Array.isArray(seg)) {
    if (seg.length === 0) throw bad('annotation-segmentation', 'segmentation has no polygon')
    seg.forEach((ring: unknown, i) => {
      if (!Array.isArray(ring))
        throw bad('annotation-segmentation', `segmentation polygon ${i} ${show(ring)} is not a list of numbers`)
      if (ring.length < 6 || ring.length % 2 !== 0) {
        throw bad(
          'annotation-segmentation',
          `segmentation polygon ${i} has ${ring.length} numbers; a polygon needs an even count of at least 6 (3 points)`,
        )
      }
      const j = ring.findIndex((v) => !isFiniteNumber(v))
      if (j >= 0)
        throw bad(
          'annotation-segmentation',
          `segmentation polygon ${i} value ${j} (${show(ring[j])}) is not a finite number`,
        )
    })
    return seg as number[][]
  }
  if (seg !== null && typeof seg === 'object') {
    const { size, counts } = seg as { size?: unknown; counts?: unknown }
    if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && (v as number) > 0)) {
      throw bad(
        'annotation-segmentation',
        `segmentation RLE size ${show(size)} is not [height, width] in positive integers`,
      )
    }
    if (typeof counts !== 'string' || !RLE_COUNTS.test(counts)) {
      throw bad(
        'annotation-segmentation',
        `segmentation RLE counts ${show(counts)} is not a COCO compressed RLE string`,
      )
    }
    return { size: [size[0] as number, size[1] as number], counts }
  }
  throw bad('annotation-segmentation', `segmentation ${show(seg)} is neither a list of polygons nor a compressed RLE`)
}

export function checkBbox(bbox: unknown): [number, number, number, number] {
  if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
    throw bad('annotation-bbox', `bbox ${show(bbox)} is not 4 finite numbers [x, y, width, height]`)
  }
  if (bbox[2] < 0 || bbox[3] < 0) throw bad('annotation-bbox', `bbox ${show(bbox)} has a negative width or height`)
  return [bbox[0], bbox[1], bbox[2], bbox[3]]
}

export function checkArea(area: unknown): number {
  if (!isFiniteNumber(area) || area < 0) throw bad('annotation-area', `area ${show(area)} is not a finite number >= 0`)
  return area
}

export function checkScore(score: unknown): number | null {
  if (score === null || score === undefined) return null
  if (!isFiniteNumber(score)) throw bad('annotation-score', `score ${show(score)} is not a finite number`)
  return score
}

export function checkPrompt(prompt: unknown): PromptRecord | null {
  if (prompt === null || prompt === undefined) return null
  if (typeof prompt !== 'object') throw bad('annotation-prompt', `prompt ${show(prompt)} is not an object`)
  const { points, box } = prompt as { points?: unknown; box?: unknown }
  if (!Array.isArray(points)) throw bad('annotation-prompt', `prompt points ${show(points)} is not a list`)
  const cleanPoints = points.map((p: unknown, i) => {
    const { x, y, label } = (p ?? {}) as { x?: unknown; y?: unknown; label?: unknown }
    if (!isFiniteNumber(x) || !isFiniteNumber(y) || (label !== 0 && label !== 1)) {
      throw bad('annotation-prompt', `prompt point ${i} ${show(p)} is not {x, y, label: 0|1} with finite x and y`)
    }
    return { x, y, label: label as 0 | 1 }
  })
  if (box === undefined || box === null) return { points: cleanPoints, box: null }
  const { x0, y0, x1, y1 } = box as { x0?: unknown; y0?: unknown; x1?: unknown; y1?: unknown }
  if (typeof box !== 'object' || ![x0, y0, x1, y1].every(isFiniteNumber)) {
    throw bad('annotation-prompt', `prompt box ${show(box)} is not {x0, y0, x1, y1} in finite numbers`)
  }
  return { points: cleanPoints, box: { x0: x0 as number, y0: y0 as number, x1: x1 as number, y1: y1 as number } }
}

/** Checks the shape of a whole annotation (ids are checked for existence by the store). */
export function checkAnnotationInput(input: unknown): AnnotationInput {
  if (input === null || typeof input !== 'object') throw bad('annotation', `annotation ${show(input)} is not an object`)
  const a = input as Record<string, unknown>
  return {
    imageId: checkId('image', a.imageId),
    categoryId: checkId('category', a.categoryId),
    segmentation: checkSegmentation(a.segmentation),
    bbox: checkBbox(a.bbox),
    area: checkArea(a.area),
    score: checkScore(a.score),
    prompt: checkPrompt(a.prompt),
    modelId: checkOptionalText('model id', a.modelId),
  }
}
