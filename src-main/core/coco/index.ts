// COCO export and import, YOLO export: the public surface of src-main/core/coco.

export {
  exportCoco,
  skippedAnnotationTotal,
  COORDINATE_NOTE,
  type CocoExportOptions,
  type CocoExportResult,
  type CocoInfoOverrides,
} from './export-coco.ts'
export { exportYolo, labelPath, type YoloExportOptions, type YoloExportResult } from './export-yolo.ts'
export {
  importCoco,
  type CocoImportOptions,
  type CocoImportResult,
  type ImportTarget,
  type SkippedImage,
} from './import-coco.ts'
export { parseCoco, parseCocoText, type CocoDocument } from './coco-parse.ts'
export type { SegmentationMode } from './geometry.ts'
export type { ExportAnnotation, ExportCategory, ExportImage, ExportSource, ProgressCallback } from './source.ts'
export { WriteGuard } from './write-guard.ts'
