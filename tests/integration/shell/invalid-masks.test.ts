// A stored mask that is not a mask of its image (a run of 2^34 pixels, a negative run, runs that
// do not cover the image, another image's size) was traced on every list and export: a hang of
// seconds per call, or a list that failed and took the image's other annotations with it. Such
// rows are written here straight into the database, as an older build or a hand edit would have
// left them; list leaves them out, exports leave them out and name them, and nothing hangs (the
// test's timeout is the bound: today's code spends seconds per list on the first row alone).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportCoco, exportYolo } from '../../../src-main/core/coco/index.ts'
import { rleFromString, rleProblem, rleToString } from '../../../src-main/core/segment/rle.ts'
import type { Annotation, ExportSummary } from '../../../src-preload/contract/index.ts'
import { openShellProject, type OpenedShell, type Shell } from './fixture.ts'

// a-square.png of the project fixture is 96x64: an RLE of it is [64, 96] and covers 6144 pixels.
const POISONS = {
  'a run of 2^34 pixels': rleToString({ size: [64, 96], counts: [0, 2 ** 34] }),
  'a negative run': rleToString({ size: [64, 96], counts: [10, -5, 6139] }),
  'runs that cover 15 of 6144 pixels': rleToString({ size: [64, 96], counts: [10, 5] }),
}

describe('invalid stored masks', () => {
  let opened: OpenedShell
  let shell: Shell
  let folder = ''
  let squareId = 0
  let categoryId = 0
  let good: Annotation
  const poisonedIds: number[] = []
  let otherSizeId = 0

  beforeAll(async () => {
    opened = await openShellProject('sam-shell-invalid-')
    ;({ shell, folder, categoryId } = opened)
    squareId = opened.imageIds.get('a-square.png') ?? 0
    good = await shell.value<Annotation>('annot:annotations.save', {
      imageId: squareId,
      categoryId,
      rings: [[10, 10, 40, 10, 40, 40, 10, 40]],
    })
    const db = new Database(join(folder, '.sam-annotator', 'project.sqlite'))
    const insert = db.prepare(
      `INSERT INTO annotations (image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h, area, created_at, updated_at)
       VALUES (?, ?, ?, 0, 0, 500000, 500000, 1e12, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
    )
    for (const counts of Object.values(POISONS)) {
      poisonedIds.push(Number(insert.run(squareId, categoryId, JSON.stringify(counts)).lastInsertRowid))
    }
    // A mask of another image's size: valid by itself, not a mask of this image.
    const otherSize = rleToString({ size: [48, 64], counts: [100, 200, 2772] })
    otherSizeId = Number(insert.run(squareId, categoryId, JSON.stringify(otherSize)).lastInsertRowid)
    db.close()
  })
  afterAll(async () => {
    await opened.close()
  })

  it('every decode refuses the poisons, and accepts a mask that covers its image', () => {
    for (const [what, rle] of Object.entries(POISONS)) expect(() => rleFromString(rle), what).toThrow(RangeError)
    expect(rleProblem({ size: [64, 96], counts: [6144] })).toBeNull()
  })

  it('list leaves them out and keeps the good annotation, twice (no hang, no failure)', async () => {
    for (let round = 0; round < 2; round++) {
      const listed = await shell.value<Annotation[]>('annot:annotations.list', { imageId: squareId })
      expect(listed.map((a) => a.id)).toEqual([good.id])
      expect(listed[0].outline).toEqual([{ outer: [10, 10, 40, 10, 40, 40, 10, 40], holes: [] }])
    }
  })

  it('COCO export (every mode) writes only valid masks, with measures from the mask, and names what it left out', async () => {
    const project = shell.app.projects.project
    if (project === null) throw new Error('no project is open')
    for (const segmentation of ['auto', 'rle', 'polygon'] as const) {
      const file = join(folder, `out-${segmentation}.json`)
      const result = await exportCoco(project, file, { segmentation })
      expect(result.annotations, segmentation).toBe(1)
      expect(result.skippedAnnotations).toMatchObject({ invalid: 3, sizeMismatch: 1 })
      expect(result.invalidAnnotationIds).toEqual(poisonedIds)
      const written = JSON.parse(readFileSync(file, 'utf8')) as { annotations: { id: number; area: number }[] }
      expect(written.annotations.map((a) => a.id)).toEqual([good.id])
      expect(written.annotations[0].area).toBe(good.area)
    }
    expect(otherSizeId).toBeGreaterThan(0)
  })

  it('the app export counts them among the skipped, and YOLO export completes without them', async () => {
    shell.dialogs.saveFiles.push(join(folder, 'app.coco.json'))
    const summary = await shell.value<ExportSummary>('annot:export.coco', { segmentation: 'auto' })
    expect(summary).toMatchObject({ annotations: 1, skippedAnnotations: 4 })
    const project = shell.app.projects.project
    if (project === null) throw new Error('no project is open')
    const yolo = await exportYolo(project, join(folder, 'yolo-out'), { imagesFolder: project.folder })
    expect(yolo.annotations).toBe(1)
    expect(yolo.skippedAnnotations).toBe(4)
  })
})

describe('a stored polygon too tangled to measure', () => {
  it('is skipped by export as invalid instead of rasterised for seconds', async () => {
    const opened = await openShellProject('sam-shell-tangled-')
    try {
      const imageId = opened.imageIds.get('a-square.png') ?? 0
      // A star of 100,000 points whose every edge crosses most of the 96-pixel-wide image:
      // ~6 * 10^6 column crossings.
      const star: number[] = []
      for (let i = 0; i < 100_000; i++) {
        const angle = i * 2 * Math.PI * 0.4937
        star.push(48 + 47 * Math.cos(angle), 32 + 31 * Math.sin(angle))
      }
      const db = new Database(join(opened.folder, '.sam-annotator', 'project.sqlite'))
      const tangledId = Number(
        db
          .prepare(
            `INSERT INTO annotations (image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h, area, created_at, updated_at)
             VALUES (?, ?, ?, 0, 0, 500000, 500000, 1e12, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
          )
          .run(imageId, opened.categoryId, JSON.stringify([star])).lastInsertRowid,
      )
      db.close()
      const project = opened.shell.app.projects.project
      if (project === null) throw new Error('no project is open')
      const result = await exportCoco(project, join(opened.folder, 'tangled.json'), { segmentation: 'auto' })
      expect(result.skippedAnnotations.invalid).toBe(1)
      expect(result.invalidAnnotationIds).toEqual([tangledId])
    } finally {
      await opened.close()
    }
  })
})
