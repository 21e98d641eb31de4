// Limits and closed value lists of the contract that core also enforces (the CLI, COCO import,
// the project store). No zod here: core imports these without loading the schema library.

/** Most prompt points one object takes; SAM gains nothing from more, and each costs a decode input. */
export const MAX_PROMPT_POINTS = 64
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
/** Longest name filter of the image list (a path is rarely longer). */
export const MAX_NAME_FILTER = 1_000

/** Where an image stands in the annotator's work. */
export const IMAGE_STATUSES = ['new', 'in_progress', 'done', 'skipped'] as const
