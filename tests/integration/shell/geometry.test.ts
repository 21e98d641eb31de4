// Geometry is decided in main: through the real handler table, with no renderer, a polygon's
// area is its rasterised pixel count (as for RLE), a prompted mask is stored exactly as decoded,
// bad rings are refused naming the value, every annotation carries its outline, and the CLI and
// the app turn the same prompt into the same result.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src-main/cli.ts'
import { rasterizeShape, rleArea, rleToString } from '../../../src-main/core/segment/rle.ts'
import { segmentationMeasures } from '../../../src-main/core/segment/segmentation.ts'
import type { Annotation, DecodeResult } from '../../../src-preload/contract/index.ts'
import { openShellProject, type OpenedShell, type Shell } from './fixture.ts'

/** Pixels whose centre lies inside the triangle (0,0), (20,0), (0,20): x + y + 1 < 20. */
function triangleByPixelCentres(): number {
  let inside = 0
  for (let y = 0; y < 64; y++) for (let x = 0; x < 96; x++) if (x + 0.5 + (y + 0.5) < 20) inside++
  return inside
}

describe('geometry decided in main', () => {
  let opened: OpenedShell
  let shell: Shell
  let folder = ''
  let squareId = 0
  let categoryId = 0

  beforeAll(async () => {
    opened = await openShellProject('sam-shell-geometry-')
    ;({ shell, folder, categoryId } = opened)
    squareId = opened.imageIds.get('a-square.png') ?? 0
  })
  afterAll(async () => {
    await opened.close()
  })

  it("measures a hand-drawn polygon by its rasterised pixels, the same as the mask's RLE", async () => {
    const triangle = [0, 0, 20, 0, 0, 20]
    const saved = await shell.value<Annotation>('annot:annotations.save', {
      imageId: squareId,
      categoryId,
      rings: [triangle],
    })
    // The shoelace area would be 200; pixel centres inside are 190.
    expect(saved.area).toBe(triangleByPixelCentres())
    expect(saved.area).toBe(190)
    expect(saved.bbox).toEqual([0, 0, 19, 19])
    const asRle = rleToString(rasterizeShape({ parts: [{ outer: triangle, holes: [] }] }, 96, 64))
    expect(segmentationMeasures(asRle, 96, 64)).toEqual({ area: saved.area, bbox: saved.bbox })
    expect(rleArea(rasterizeShape({ parts: [{ outer: triangle, holes: [] }] }, 96, 64))).toBe(saved.area)
    expect(saved).toMatchObject({ segmentation: [triangle], score: null, prompt: null, modelId: null })
    expect(saved.outline).toEqual([{ outer: triangle, holes: [] }])
    // Vertex edits are measured the same way.
    const moved = await shell.value<Annotation>('annot:annotations.update', {
      annotationId: saved.id,
      rings: [[0, 0, 40, 0, 0, 40]],
    })
    expect(moved.area).toBe(780) // x + y + 1 < 40: 39 * 40 / 2
    // Every write is a new revision, however quickly it follows the last; each restores its own state.
    const again = await shell.value<Annotation>('annot:annotations.update', {
      annotationId: saved.id,
      rings: [[0, 0, 30, 0, 0, 30]],
    })
    expect(new Set([saved.revision, moved.revision, again.revision]).size).toBe(3)
    expect(
      (await shell.value<Annotation>('annot:annotations.update', { annotationId: saved.id, revision: moved.revision }))
        .area,
    ).toBe(780)
    expect(
      (await shell.value<Annotation>('annot:annotations.update', { annotationId: saved.id, revision: saved.revision }))
        .area,
    ).toBe(190)
    await shell.value('annot:annotations.delete', { annotationId: saved.id })
  })

  it('refuses rings outside the image or without an area, naming the value', async () => {
    const cases: [number[], RegExp][] = [
      [[10, 10, 200, 10, 10, 30], /ring 0 point 1 \(200,10\) is outside the 96x64 image/],
      [[10, 10, 20, 20, 30, 30], /encloses no area/],
      [[10, 10, 10, 10, 10, 10, 20, 20], /fewer than 3 distinct points/],
      [[10.1, 10.1, 10.3, 10.1, 10.1, 10.3], /covers no pixel centre/],
    ]
    for (const [ring, message] of cases) {
      const result = await shell.invoke('annot:annotations.save', { imageId: squareId, categoryId, rings: [ring] })
      expect(result.ok ? 'ok' : result.error).toMatchObject({
        code: 'invalid-argument',
        detail: 'annotation-rings',
        message: expect.stringMatching(message),
      })
    }
  })

  it('stores the mask being prompted exactly as it was decoded, with its score and prompt', async () => {
    const points = [{ x: 45, y: 30, label: 1 }]
    await shell.value<DecodeResult>('annot:segment.decode', {
      imageId: squareId,
      points: [...points, { x: 5, y: 5, label: 0 }],
    })
    const shown = await shell.value<DecodeResult>('annot:segment.decode', { imageId: squareId, points, candidate: 1 })
    const saved = await shell.value<Annotation>('annot:annotations.save', {
      imageId: squareId,
      categoryId,
      prompted: true,
    })
    expect(saved).toMatchObject({
      segmentation: shown.segmentation,
      bbox: shown.bbox,
      area: shown.area,
      score: Math.min(1, Math.max(0, shown.score)),
      prompt: { points, box: null },
    })
    expect(saved.outline).toEqual(
      shown.parts.map((part) => ({ outer: part.outer.map((v) => Math.round(v * 100) / 100), holes: [] })),
    )
    // Taken: the prompt history is done, and a second save has nothing to take.
    const again = await shell.invoke('annot:annotations.save', { imageId: squareId, categoryId, prompted: true })
    expect(again.ok ? 'ok' : again.error).toMatchObject({ code: 'invalid-argument', detail: 'no-prompted-mask' })
    // Undoing the delete brings the same state back by its revision.
    await shell.value('annot:annotations.delete', { annotationId: saved.id })
    const restored = await shell.value<Annotation>('annot:annotations.save', {
      imageId: squareId,
      categoryId,
      revision: saved.revision,
    })
    expect(restored).toMatchObject({
      segmentation: saved.segmentation,
      bbox: saved.bbox,
      area: saved.area,
      score: saved.score,
      prompt: saved.prompt,
      modelId: saved.modelId,
    })
    const foreign = await shell.invoke('annot:annotations.save', { imageId: squareId, categoryId, revision: 'zz.1' })
    expect(foreign.ok ? 'ok' : foreign.error.code).toBe('invalid-argument')
  })

  it('lists every annotation with its outline, polygons and RLE alike', async () => {
    await shell.value('annot:segment.decode', {
      imageId: squareId,
      points: [],
      box: { x0: 40, y0: 26, x1: 52, y1: 38 },
    })
    const [target] = await shell.value<Annotation[]>('annot:annotations.list', { imageId: squareId })
    await shell.value('annot:annotations.combine', { annotationId: target.id, op: 'subtract' })
    await shell.value('annot:annotations.save', { imageId: squareId, categoryId, rings: [[60, 40, 90, 40, 90, 60]] })
    const listed = await shell.value<Annotation[]>('annot:annotations.list', { imageId: squareId })
    expect(listed.length).toBeGreaterThanOrEqual(2)
    for (const annotation of listed) {
      expect(annotation.outline.length, `annotation ${annotation.id}`).toBeGreaterThan(0)
      if (Array.isArray(annotation.segmentation))
        expect(annotation.outline.map((part) => part.outer)).toEqual(annotation.segmentation)
    }
  })

  it('the CLI and the app turn the same prompt into the same result', async () => {
    await shell.value('annot:segment.reset')
    const app = await shell.value<DecodeResult>('annot:segment.decode', {
      imageId: squareId,
      points: [{ x: 45, y: 30, label: 1 }],
    })
    const out: string[] = []
    const code = await main(
      [
        'segment',
        join(folder, 'a-square.png'),
        '--point',
        '45,30',
        '--model',
        join(import.meta.dirname, '..', '..', '..', 'models', 'demo'),
        '--json',
      ],
      {
        out: (line) => out.push(line),
        err: () => {},
      },
    )
    expect(code).toBe(0)
    const cli = JSON.parse(out.join('\n')) as Record<string, unknown>
    for (const field of ['width', 'height', 'candidate', 'score', 'scores', 'segmentation', 'bbox', 'area'] as const) {
      expect(cli[field], field).toEqual(app[field])
    }
  })
})
