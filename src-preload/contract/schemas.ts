// Argument schemas shared by several domains, with the limits that keep malformed or hostile
// input (NaN, Infinity, huge arrays, ids given as strings or paths) away from SQLite and ONNX.
// Every object is strict: an unexpected key is an error, not silently dropped.
import { z } from 'zod'

/** Most prompt points one object takes; SAM gains nothing from more, and each costs a decode input. */
export const MAX_POINTS = 64
/** Polygon limits of one annotation: parts, numbers per ring, numbers in all. */
export const MAX_RINGS = 1_000
export const MAX_RING_VALUES = 200_000
export const MAX_SEGMENTATION_VALUES = 1_000_000
/** Longest compressed-RLE counts string (a 10000x10000 mask of alternating runs is far below). */
export const MAX_RLE_CHARS = 4_000_000
/** Largest image side a coordinate may refer to. */
export const MAX_COORDINATE = 1_000_000
/** Most images one page of the image list returns. */
export const MAX_PAGE = 1_000

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
  points: z.array(point).max(MAX_POINTS),
  box: box.nullable().optional(),
})

export const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour of the form #rrggbb')

export const name = z.string().min(1).max(200)

const ring = z
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

export const segmentation = z.union([
  z
    .array(ring)
    .min(1)
    .max(MAX_RINGS)
    .refine(
      (rings) => rings.reduce((sum, r) => sum + r.length, 0) <= MAX_SEGMENTATION_VALUES,
      `a segmentation holds at most ${MAX_SEGMENTATION_VALUES} numbers`,
    ),
  compressedRle,
])

const size = z.number().min(0).max(MAX_COORDINATE)
export const bbox = z.tuple([coordinate, coordinate, size, size])
export const area = z.number().min(0).max(MAX_COORDINATE * MAX_COORDINATE)
export const score = z.number().min(0).max(1)

export const imageStatus = z.enum(['new', 'in_progress', 'done', 'skipped'])

/** Absolute folder path (POSIX or Windows), bounded; what exists is checked by main. */
export const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((path) => !path.includes('\0'), 'must not contain NUL')
  .refine((path) => path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\'), 'must be an absolute path')
