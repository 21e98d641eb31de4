// CLI commands that move labels in and out of a project: export (COCO or Ultralytics YOLO
// segmentation) and import (COCO). The exporters themselves refuse to write over the project's
// images or database (core/coco/write-guard.ts), since they are handed the Project.

import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  exportCoco,
  exportYolo,
  importCoco,
  skippedAnnotationTotal,
  type SegmentationMode,
} from '../core/coco/index.ts'
import { UserError } from '../core/errors.ts'
import { importSummaryLines } from '../../src-preload/contract/summaries.ts'
import type { Io } from './args.ts'
import { openAndScan } from './project-commands.ts'
import { progressBar } from './progress.ts'

const MODES: readonly SegmentationMode[] = ['auto', 'polygon', 'rle']

export async function exportCommand(args: string[], io: Io): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      coco: { type: 'string' },
      yolo: { type: 'string' },
      segmentation: { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (positionals.length !== 1) throw new UserError('bad-argument', 'export: expected exactly one project folder')
  if (!values.coco === !values.yolo)
    throw new UserError('bad-argument', 'export: give either --coco <out.json> or --yolo <dir>')
  const mode = (values.segmentation ?? 'auto') as SegmentationMode
  if (!MODES.includes(mode))
    throw new UserError('bad-argument', `--segmentation '${values.segmentation}': expected auto, polygon or rle`)
  if (values.yolo && values.segmentation)
    throw new UserError('bad-argument', '--segmentation applies to --coco only (YOLO labels are polygons)')

  const project = await openAndScan(positionals[0], io)
  const bar = progressBar('exporting')
  try {
    const onProgress = (done: number, total: number) => bar.update(done, total)
    if (values.coco) {
      const result = await exportCoco(project, resolve(values.coco), { segmentation: mode, onProgress })
      bar.stop()
      if (values.json) return io.out(JSON.stringify(result))
      io.out(
        `wrote ${result.file}: ${result.images} images, ${result.categories} categories, ${result.annotations} annotations (${(result.durationMs / 1000).toFixed(1)} s)`,
      )
      if (result.skippedImages > 0)
        io.err(
          `skipped ${result.skippedImages} image(s) of unknown size (unreadable): ${result.skippedImagePaths.join(', ')}`,
        )
      if (result.missingImages > 0) io.err(`${result.missingImages} exported image(s) are missing from the folder`)
      const s = result.skippedAnnotations
      const skipped = skippedAnnotationTotal(s)
      if (skipped > 0)
        io.err(
          `skipped ${skipped} annotation(s): ${s.onSkippedImages} on skipped images, ${s.empty} empty, ${s.sizeMismatch} whose image changed size, ${s.unknownCategory} of unknown category, ${s.invalid} whose stored mask is invalid`,
        )
      if (s.invalid > 0) io.err(`invalid stored masks (annotation ids): ${result.invalidAnnotationIds.join(', ')}`)
      if (result.holesDropped > 0)
        io.err(
          `polygon mode dropped ${result.holesDropped} hole(s) from ${result.annotationsWithHolesDropped} annotation(s)`,
        )
    } else {
      const result = await exportYolo(project, resolve(values.yolo!), { imagesFolder: project.folder, onProgress })
      bar.stop()
      if (values.json) return io.out(JSON.stringify(result))
      io.out(
        `wrote ${result.dataYaml}: ${result.images} images, ${result.annotations} annotations as ${result.polygons} polygon line(s) (${(result.durationMs / 1000).toFixed(1)} s)`,
      )
      if (result.imagesInPlace) io.out(`images are already in ${join(result.outDir, 'images')}; wrote labels only`)
      if (result.skippedImages > 0)
        io.err(
          `skipped ${result.skippedImages} image(s) of unknown size (unreadable): ${result.skippedImagePaths.join(', ')}`,
        )
      if (result.skippedAnnotations > 0)
        io.err(`skipped ${result.skippedAnnotations} annotation(s) with nothing inside their image`)
      if (result.holesDropped > 0)
        io.err(
          `YOLO has no holes: dropped ${result.holesDropped} hole(s) from ${result.annotationsWithHolesDropped} annotation(s)`,
        )
      if (result.copiedImages > 0) io.err(`${result.copiedImages} image(s) copied because links could not be made`)
    }
  } finally {
    bar.stop()
    project.close()
  }
}

export async function importCommand(args: string[], io: Io): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { coco: { type: 'string' }, json: { type: 'boolean' } },
  })
  if (positionals.length !== 1) throw new UserError('bad-argument', 'import: expected exactly one project folder')
  if (!values.coco) throw new UserError('bad-argument', 'import: --coco <in.json> is required')
  const project = await openAndScan(positionals[0], io)
  const bar = progressBar('importing')
  try {
    const result = await importCoco(project, resolve(values.coco), {
      onProgress: (done, total) => bar.update(done, total),
    })
    bar.stop()
    if (values.json) return io.out(JSON.stringify(result))
    // The same lines the app shows after Import COCO…
    for (const line of importSummaryLines(result)) {
      if (line.warning) io.err(line.text)
      else io.out(line.text)
    }
  } finally {
    bar.stop()
    project.close()
  }
}
