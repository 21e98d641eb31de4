// The project store's public data shapes: what a caller (IPC service, CLI, COCO export and
// import) gets back from `Project`. Plain data, no SQL: the repositories translate rows.

export type ImageStatus = 'new' | 'in_progress' | 'done' | 'skipped'
export const IMAGE_STATUSES: readonly ImageStatus[] = ['new', 'in_progress', 'done', 'skipped']

export interface ImageRow {
  id: number
  /** Relative to the project folder, '/' separators. */
  path: string
  /** Oriented size (EXIF orientation applied); null until the header has been read, or when unreadable. */
  width: number | null
  height: number | null
  /** Bytes, from the last scan. */
  size: number
  status: ImageStatus
  /** The file was not found by the last scan; its annotations are kept. */
  missing: boolean
  /** Why the image cannot be read (empty, truncated, not an image, too large); null when fine or not yet read. */
  error: string | null
  annotationCount: number
}

export interface Category {
  id: number
  name: string
  /** '#rrggbb', lower case. */
  color: string
  order: number
  supercategory: string | null
}

export interface PromptPoint {
  x: number
  y: number
  label: 0 | 1
}

export interface PromptBox {
  x0: number
  y0: number
  x1: number
  y1: number
}

/** The prompt that produced an annotation, kept so it can be refined later. */
export interface PromptRecord {
  points: PromptPoint[]
  box?: PromptBox | null
}

/** COCO compressed RLE: size is [height, width], counts the LEB128-like string. */
export interface CompressedRle {
  size: [number, number]
  counts: string
}

/** COCO polygons (flat [x0, y0, x1, y1, ...] rings) or compressed RLE. */
export type Segmentation = number[][] | CompressedRle

export interface Annotation {
  id: number
  imageId: number
  categoryId: number
  segmentation: Segmentation
  /** COCO [x, y, width, height] in image pixels. */
  bbox: [number, number, number, number]
  area: number
  score: number | null
  prompt: PromptRecord | null
  modelId: string | null
  /** ISO 8601, UTC. */
  createdAt: string
  updatedAt: string
}

export type AnnotationInput = Omit<Annotation, 'id' | 'createdAt' | 'updatedAt'>
export type AnnotationPatch = Partial<AnnotationInput>

export interface ScanSummary {
  /** Image files found on disk by this scan. */
  found: number
  /** Rows inserted for files seen for the first time. */
  added: number
  /** Rows newly marked missing by this scan. */
  missing: number
  /** Missing rows whose file came back at the same path. */
  returned: number
  /** Rows re-linked to a renamed or moved file (id and annotations kept, path updated). */
  relinked: number
  /** Files whose size or modification time changed: their header is read again. */
  changed: number
  /** Rows whose header (size, fingerprint, error) still has to be read by readPendingHeaders. */
  pendingHeaders: number
  durationMs: number
}

export interface ProjectCounts {
  images: number
  missing: number
  unreadable: number
  annotations: number
  /** Every category in display order, with zero counts included. */
  perCategory: { name: string; count: number }[]
}

/** The part of an annotation an export writes. */
export type AnnotationGeometry = Pick<Annotation, 'id' | 'imageId' | 'categoryId' | 'segmentation' | 'bbox' | 'area'> & {
  /** The segmentation's JSON text as stored (exports write it verbatim when unchanged). */
  segmentationJson: string
}
