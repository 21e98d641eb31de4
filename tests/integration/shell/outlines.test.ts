// Outlines of stored RLE masks are traced on the geometry pool's workers once per mask: listing
// an image again, or restoring an earlier state by its revision, finds the trace instead of
// redoing it. The outline drops specks (as a decode's polygons do) and keeps holes.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { rleEncode, rleToString } from '../../../src-main/core/segment/rle.ts'
import type { Annotation } from '../../../src-preload/contract/index.ts'
import { openShellProject, type OpenedShell, type Shell } from './fixture.ts'

// a-square.png of the project fixture is 96x64.
const W = 96
const H = 64

/** A 40x30 block with a 10x10 hole, and a 2x2 speck far from it. */
function holedBlockWithSpeck(): Uint8Array {
  const mask = new Uint8Array(W * H)
  for (let y = 10; y < 40; y++) for (let x = 10; x < 50; x++) mask[y * W + x] = 1
  for (let y = 20; y < 30; y++) for (let x = 25; x < 35; x++) mask[y * W + x] = 0
  for (let y = 50; y < 52; y++) for (let x = 80; x < 82; x++) mask[y * W + x] = 1
  return mask
}

describe('outlines of stored masks', () => {
  let opened: OpenedShell
  let shell: Shell
  let imageId = 0
  let rleId = 0

  beforeAll(async () => {
    opened = await openShellProject('sam-shell-outlines-')
    shell = opened.shell
    imageId = opened.imageIds.get('a-square.png') ?? 0
    // A valid RLE written as an import or an older build leaves it.
    const db = new Database(join(opened.folder, '.sam-annotator', 'project.sqlite'))
    const rle = JSON.stringify(rleToString(rleEncode(holedBlockWithSpeck(), W, H)))
    rleId = Number(
      db
        .prepare(
          `INSERT INTO annotations (image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h, area, created_at, updated_at)
           VALUES (?, ?, ?, 10, 10, 72, 42, 1104, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
        )
        .run(imageId, opened.categoryId, rle).lastInsertRowid,
    )
    db.close()
  })
  afterAll(async () => {
    await opened.close()
  })

  it('traces an RLE once: on a worker, keeping its hole and dropping the speck', async () => {
    const run = vi.spyOn(shell.app.geometry, 'run')
    try {
      const first = await shell.value<Annotation[]>('annot:annotations.list', { imageId })
      const listed = first.find((a) => a.id === rleId)
      expect(listed?.outline).toHaveLength(1)
      expect(listed?.outline[0].holes).toHaveLength(1)
      const xs = listed?.outline[0].outer.filter((_, i) => i % 2 === 0) ?? []
      expect(Math.min(...xs)).toBeCloseTo(10, 0)
      expect(Math.max(...xs)).toBeCloseTo(50, 0)
      const again = await shell.value<Annotation[]>('annot:annotations.list', { imageId })
      expect(again.find((a) => a.id === rleId)?.outline).toEqual(listed?.outline)
      expect(run.mock.calls.filter(([task]) => task === 'outlines')).toHaveLength(1)

      // Edited to a polygon and back by its revision: the mask is the same, so is its trace.
      await shell.value<Annotation>('annot:annotations.update', {
        annotationId: rleId,
        rings: [[10, 10, 40, 10, 40, 40, 10, 40]],
      })
      const restored = await shell.value<Annotation>('annot:annotations.update', {
        annotationId: rleId,
        revision: listed?.revision,
      })
      expect(restored.outline).toEqual(listed?.outline)
      expect(run.mock.calls.filter(([task]) => task === 'outlines')).toHaveLength(1)
      expect(run.mock.calls.map(([task]) => task)).toContain('polygonGeometry')
    } finally {
      run.mockRestore()
    }
  })
})
