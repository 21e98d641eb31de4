// What the exporters read: plain data, so a `Project` serves directly (its methods have these
// shapes) and a bench or test can hand in generated data without a database. A source with
// files on disk says where they are, and the exporters then refuse to write over them
// (write-guard.ts): a `Project` always does, so no caller can forget to.

import type { StoredAnnotation, Category, ProjectImage } from '../project/types.ts'

export type ExportImage = Pick<ProjectImage, 'id' | 'path' | 'width' | 'height'> & { missing?: boolean }
export type ExportCategory = Pick<Category, 'id' | 'name' | 'order' | 'supercategory'>
/** `area` and `bbox` as saved; used for an unchanged segmentation when plausible (see geometry.ts). */
export type ExportAnnotation = Pick<StoredAnnotation, 'id' | 'imageId' | 'categoryId' | 'segmentation'> &
  Partial<Pick<StoredAnnotation, 'area' | 'bbox'>> & {
    /** The segmentation's JSON text as stored, written verbatim when the geometry is unchanged. */
    segmentationJson?: string
  }

export interface ExportSource {
  /** The folder the images' relative paths start from (absolute). */
  readonly folder?: string
  /** The project database; its folder is protected too. */
  readonly dbPath?: string
  listImages(): readonly ExportImage[]
  listCategories(): readonly ExportCategory[]
  /** Every annotation, streamed (id order keeps exports diffable). */
  iterateAnnotationGeometry(): Iterable<ExportAnnotation>
  /** For progress only. */
  counts?(): { annotations: number }
}

/** Progress of a long operation: `done` of `total` items (annotations for exports and imports). */
export type ProgressCallback = (done: number, total: number) => void
