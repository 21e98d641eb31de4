// The `export` domain: COCO export and import, YOLO export. Main asks the user where to write
// or what to read (native dialogs); a renderer never names a file path, so it cannot make main
// write or read files the user did not pick. null: the dialog was cancelled.
// Progress arrives as `progress` events while the call runs.
import { z } from 'zod'
import { method, NO_ARGUMENT, result } from './define.ts'

export interface ExportSummary {
  file: string
  images: number
  categories: number
  annotations: number
  /** Images left out because their size is unknown. */
  skippedImages: number
  skippedImagePaths: string[]
  /** Annotations not written, all reasons together. */
  skippedAnnotations: number
  /**
   * YOLO only: the output's images/ is the project folder itself (a `dataset/images` project
   * exported to `dataset`), so the images stayed where they are and only labels were written.
   */
  imagesInPlace?: boolean
  durationMs: number
}

export interface ImportSummary {
  file: string
  imported: number
  matchedImages: number
  skippedImages: { fileName: string; reason: 'not-in-project' | 'size-differs' | 'size-unknown'; detail: string }[]
  categoriesCreated: string[]
  /** Annotations not imported, by reason. */
  skippedAnnotations: {
    /** On a skipped image. */
    onSkippedImages: number
    /** Nothing of the segmentation inside the image. */
    empty: number
    /** Already in the project (same image, category and segmentation). */
    duplicates: number
  }
  durationMs: number
}

export const exportDomain = {
  coco: method(
    z.strictObject({ segmentation: z.enum(['auto', 'polygon', 'rle']).optional() }).optional(),
    result<ExportSummary | null>(),
  ),
  yolo: method(NO_ARGUMENT, result<ExportSummary | null>()),
  importCoco: method(NO_ARGUMENT, result<ImportSummary | null>()),
}
