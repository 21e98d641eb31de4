// The project store's public data shapes: what a caller (IPC service, CLI, COCO export and
// import) gets back from `Project`. Plain data, no SQL: the repositories translate rows.

// Wire and domain types are declared once, in the IPC contract; the store uses them as they are.
import type { StoredAnnotation } from '../../../src-preload/contract/annotations.ts'
export type { Category } from '../../../src-preload/contract/categories.ts'
export type { ProjectImage } from '../../../src-preload/contract/images.ts'
export type { ProjectCounts, ScanSkipped, ScanSummary } from '../../../src-preload/contract/project.ts'
export type {
  CompressedRle,
  ImageStatus,
  PromptBox,
  PromptPoint,
  PromptRecord,
  Segmentation,
} from '../../../src-preload/contract/schemas.ts'
export { IMAGE_STATUSES } from '../../../src-preload/contract/limits.ts'
export type { StoredAnnotation }

export type AnnotationInput = Omit<StoredAnnotation, 'id' | 'createdAt' | 'updatedAt'>
export type AnnotationPatch = Partial<AnnotationInput>

/** The part of an annotation an export writes. */
export type AnnotationGeometry = Pick<
  StoredAnnotation,
  'id' | 'imageId' | 'categoryId' | 'segmentation' | 'bbox' | 'area'
> & {
  /** The segmentation's JSON text as stored (exports write it verbatim when unchanged). */
  segmentationJson: string
}
