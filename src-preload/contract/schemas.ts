// Argument schemas shared by several domains, with the limits that keep malformed or hostile
// input (NaN, Infinity, huge arrays, ids given as strings or paths) away from SQLite and ONNX.
// Every object is strict: an unexpected key is an error, not silently dropped.
import { z } from 'zod'

import {
  IMAGE_STATUSES,
  MAX_COORDINATE,
  MAX_PROMPT_POINTS,
  MAX_RING_VALUES,
  MAX_RINGS,
  MAX_RLE_CHARS,
  MAX_SEGMENTATION_VALUES,
} from './limits.ts'

export * from './limits.ts'

/** A database id: a positive safe integer (z.int refuses NaN, Infinity, fractions and strings). */
export const id = z.int().positive()

/** A finite number in image pixels (z.number refuses NaN and ±Infinity). */
export const coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE)

export const point = z.strictObject({
  x: coordinate,
  y: coordinate,
  /** 1: on the object, 0: not on it. */
  label: z.union([z.literal(0), z.literal(1)]),
})

export const box = z.strictObject({ x0: coordinate, y0: coordinate, x1: coordinate, y1: coordinate })

export const promptRecord = z.strictObject({
  points: z.array(point).max(MAX_PROMPT_POINTS),
  box: box.nullable().optional(),
})

export const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour of the form #rrggbb')

export const name = z.string().min(1).max(200)

export const ring = z
  .array(coordinate)
  .min(6)
  .max(MAX_RING_VALUES)
  .refine((values) => values.length % 2 === 0, 'a polygon ring needs an even count of numbers')

export const compressedRle = z.strictObject({
  /** [height, width] */
  size: z.tuple([z.int().positive().max(MAX_COORDINATE), z.int().positive().max(MAX_COORDINATE)]),
  counts: z
    .string()
    .min(1)
    .max(MAX_RLE_CHARS)
    .regex(/^[0-o]+$/, 'is not a COCO compressed RLE string'),
})

/** Polygon rings in image pixels (each ring its own part, as COCO unions them). */
export const rings = z
  .array(ring)
  .min(1)
  .max(MAX_RINGS)
  .refine(
    (all) => all.reduce((sum, r) => sum + r.length, 0) <= MAX_SEGMENTATION_VALUES,
    `a polygon holds at most ${MAX_SEGMENTATION_VALUES} numbers`,
  )

export const segmentation = z.union([rings, compressedRle])

// The geometry and prompt types every process uses, inferred from the schemas above (core
// imports them as types only, which loads no zod).

/** A prompt point in original (oriented) image pixels, COCO frame: pixel (0,0) covers [0,1)². */
export type PromptPoint = z.infer<typeof point>
/** A box prompt in original image pixels (corners, any order). */
export type PromptBox = z.infer<typeof box>
/** The prompt that produced an annotation, kept so it can be re-prompted later. */
export type PromptRecord = z.infer<typeof promptRecord>
/** COCO compressed RLE: size is [height, width], counts the LEB128-like string. */
export type CompressedRle = z.infer<typeof compressedRle>
/** COCO polygons (flat [x0, y0, x1, y1, ...] rings) or compressed RLE. */
export type Segmentation = z.infer<typeof segmentation>
/** COCO [x, y, width, height] in image pixels. */
export type Bbox = [number, number, number, number]
/** A closed ring as flat [x0, y0, x1, y1, ...] in image pixels; the first point is not repeated. */
export type Ring = number[]
/**
 * One separate part of an object's outline: its outer boundary (positive shoelace area in
 * image coordinates, y down) and its holes (negative area).
 */
export interface OutlinePart {
  outer: Ring
  holes: Ring[]
}

export const imageStatus = z.enum(IMAGE_STATUSES)
export type ImageStatus = z.infer<typeof imageStatus>

/** Absolute folder path (POSIX or Windows), bounded; what exists is checked by main. */
export const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((path) => !path.includes('\0'), 'must not contain NUL')
  .refine(
    (path) => path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\'),
    'must be an absolute path',
  )
