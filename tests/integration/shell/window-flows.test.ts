// The flows a window drives, through the real IPC handlers and core: open a folder, click on an
// object and get its polygon (then refine, undo a point, start over), save it, export and
// import COCO through the (scripted) dialogs, and the events main sends meanwhile.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../../src-main/core/segment/engine.ts'
import type {
  Annotation,
  DecodeResult,
  ExportSummary,
  ImagePage,
  ImportSummary,
  ModelInfo,
  ProjectSummary,
  RecentProject,
} from '../../../src-preload/contract/index.ts'
import { makeProjectFolder, openDemoEngine, startShell, type Shell } from './fixture.ts'

describe("a window's flows through the IPC handlers", () => {
  let engine: Promise<Engine>
  let shell: Shell
  let folder = ''
  let squareId = 0

  beforeAll(async () => {
    engine = openDemoEngine()
    shell = startShell(engine)
    folder = (await makeProjectFolder()).dir
  })
  afterAll(async () => {
    await shell.dispose()
    await (await engine).close()
    rmSync(folder, { recursive: true, force: true })
  })

  it('reports the demo model and its provider', async () => {
    const info = await shell.value<ModelInfo>('annot:model.info')
    expect(info).toMatchObject({ demo: true, provider: 'cpu' })
    expect(info.providerNotes.join(' ')).toMatch(/cpu/)
  })

  it('opens a folder from the dialog, scans it, remembers it, and tells the window', async () => {
    expect(await shell.value('annot:project.openDialog')).toBeNull() // cancelled
    shell.dialogs.folders.push(folder)
    const summary = await shell.value<ProjectSummary>('annot:project.openDialog')
    expect(summary).toMatchObject({
      location: 'folder',
      notice: null,
      counts: { images: 5, annotations: 0 },
      scan: { found: 5, added: 5 },
    })
    expect(
      shell.events.some(
        (event) => event.name === 'project' && (event.payload as ProjectSummary | null)?.folder === summary.folder,
      ),
    ).toBe(true)
    expect(
      shell.events.some((event) => event.name === 'progress' && (event.payload as { task: string }).task === 'scan'),
    ).toBe(true)
    const recent = await shell.value<RecentProject[]>('annot:project.recent')
    expect(recent).toEqual([expect.objectContaining({ folder: summary.folder, exists: true })])
    // Reopening by path works for a recent folder only.
    expect((await shell.value<ProjectSummary>('annot:project.open', { folder: summary.folder })).folder).toBe(
      summary.folder,
    )
    const page = await shell.value<ImagePage>('annot:images.list', { limit: 2 })
    expect(page.total).toBe(5)
    expect(page.images.map((image) => image.path)).toEqual(['a-square.png', 'b-photo.jpg'])
    squareId = page.images[0]?.id ?? 0
  })

  it("decodes a click into the square's polygon, refines, restores and starts over", async () => {
    const status = await shell.value<{ state: string }>('annot:segment.setCurrent', { imageId: squareId })
    expect(['none', 'queued', 'reading', 'encoding', 'ready']).toContain(status.state)
    const first = await shell.value<DecodeResult>('annot:segment.decode', {
      imageId: squareId,
      points: [{ x: 45, y: 30, label: 1 }],
    })
    expect(first).toMatchObject({ imageId: squareId, width: 96, height: 64, restored: false, hasHoles: false })
    // The red square covers x 30..62, y 16..48.
    const [x, y, w, h] = first.bbox
    expect(Math.abs(x - 30)).toBeLessThanOrEqual(2)
    expect(Math.abs(y - 16)).toBeLessThanOrEqual(2)
    expect(Math.abs(w - 32)).toBeLessThanOrEqual(3)
    expect(Math.abs(h - 32)).toBeLessThanOrEqual(3)
    expect(first.parts).toHaveLength(1)
    expect(Array.isArray(first.segmentation)).toBe(true)
    expect(first.scores.length).toBeGreaterThan(1)
    const refined = await shell.value<DecodeResult>('annot:segment.decode', {
      imageId: squareId,
      points: [
        { x: 45, y: 30, label: 1 },
        { x: 5, y: 5, label: 0 },
      ],
    })
    expect(refined.restored).toBe(false)
    expect(refined.embedding).toBe('memory')
    // Removing the last point restores the first state exactly, without a decoder run.
    const restored = await shell.value<DecodeResult>('annot:segment.decode', {
      imageId: squareId,
      points: [{ x: 45, y: 30, label: 1 }],
    })
    expect(restored.restored).toBe(true)
    expect(restored.bbox).toEqual(first.bbox)
    expect(await shell.value('annot:segment.reset')).toBeNull()
    const fresh = await shell.value<DecodeResult>('annot:segment.decode', {
      imageId: squareId,
      points: [{ x: 45, y: 30, label: 1 }],
    })
    expect(fresh.restored).toBe(false)
    expect(
      shell.events.some(
        (event) => event.name === 'embedding' && (event.payload as { imageId: number }).imageId === squareId,
      ),
    ).toBe(true)

    // Save what was decoded: committed, with the model recorded by main.
    const category = await shell.value<{ id: number }>('annot:categories.create', { name: 'square' })
    const saved = await shell.value<Annotation>('annot:annotations.save', {
      imageId: squareId,
      categoryId: category.id,
      prompted: true,
    })
    expect(saved).toMatchObject({ imageId: squareId, modelId: (await shell.value<ModelInfo>('annot:model.info')).id })
    expect(saved).toMatchObject({
      segmentation: fresh.segmentation,
      bbox: fresh.bbox,
      area: fresh.area,
      prompt: { points: [{ x: 45, y: 30, label: 1 }] },
    })
    expect(await shell.value<Annotation[]>('annot:annotations.list', { imageId: squareId })).toEqual([saved])
    const image = await shell.value<{ status: string; annotationCount: number }>('annot:images.get', {
      imageId: squareId,
    })
    expect(image).toMatchObject({ status: 'in_progress', annotationCount: 1 })
  })

  it('re-prompts a saved annotation and adds or cuts a mask from it', async () => {
    const [saved] = await shell.value<Annotation[]>('annot:annotations.list', { imageId: squareId })
    // Re-prompting starts from the saved mask: a click outside the square adds to it.
    const reprompt = await shell.value<DecodeResult>('annot:segment.decode', {
      imageId: squareId,
      points: [{ x: 45, y: 30, label: 1 }],
      reprompt: saved.id,
    })
    expect(reprompt.restored).toBe(false)
    expect(Math.abs(reprompt.area - saved.area)).toBeLessThan(0.1 * saved.area)
    const other = await shell.invoke('annot:segment.decode', {
      imageId: squareId + 1,
      points: [{ x: 5, y: 5, label: 1 }],
      reprompt: saved.id,
    })
    expect(other.ok ? 'ok' : other.error.code).not.toBe('ok')
    // The re-prompt is accepted into the annotation itself; its prompt keeps the earlier clicks.
    const accepted = await shell.value<Annotation>('annot:annotations.update', {
      annotationId: saved.id,
      prompted: true,
    })
    expect(accepted).toMatchObject({
      id: saved.id,
      segmentation: reprompt.segmentation,
      area: reprompt.area,
      bbox: reprompt.bbox,
    })
    expect(accepted.prompt?.points).toEqual([
      { x: 45, y: 30, label: 1 },
      { x: 45, y: 30, label: 1 },
    ])
    // Cut the top half away (a box prompt over it), then add it back.
    const decodeBox = (box: { x0: number; y0: number; x1: number; y1: number }) =>
      shell.value<DecodeResult>('annot:segment.decode', { imageId: squareId, points: [], box })
    const top = await decodeBox({ x0: 0, y0: 0, x1: 96, y1: 32 })
    const cut = await shell.value<Annotation>('annot:annotations.combine', { annotationId: saved.id, op: 'subtract' })
    expect(cut.id).toBe(saved.id)
    expect(cut.area).toBeLessThan(accepted.area)
    expect(cut.area).toBeGreaterThanOrEqual(accepted.area - top.area)
    // The mask was taken: a second combine has nothing to take.
    const twice = await shell.invoke('annot:annotations.combine', { annotationId: saved.id, op: 'subtract' })
    expect(twice.ok ? 'ok' : twice.error).toMatchObject({ code: 'invalid-argument', detail: 'no-prompted-mask' })
    // Undo: the earlier state comes back by its revision, geometry and all.
    const back = await shell.value<Annotation>('annot:annotations.update', {
      annotationId: saved.id,
      revision: accepted.revision,
    })
    expect(back).toMatchObject({
      segmentation: accepted.segmentation,
      bbox: accepted.bbox,
      area: accepted.area,
      prompt: accepted.prompt,
    })
    // A hole makes the segmentation RLE; the annotation then carries its traced outline.
    await decodeBox({ x0: 42, y0: 28, x1: 50, y1: 36 })
    const holed = await shell.value<Annotation>('annot:annotations.combine', { annotationId: saved.id, op: 'subtract' })
    if (!Array.isArray(holed.segmentation)) {
      expect(holed.outline).toHaveLength(1)
      expect(holed.outline[0].holes).toHaveLength(1)
    }
    const listed = await shell.value<Annotation[]>('annot:annotations.list', { imageId: squareId })
    expect(listed[0].outline).toEqual(holed.outline)
    expect(listed[0].revision).toBe(holed.revision)
    await shell.value('annot:annotations.update', { annotationId: saved.id, revision: accepted.revision })
    expect(await shell.value<Annotation[]>('annot:annotations.list', { imageId: squareId })).toHaveLength(1)
  })

  it('refuses to segment an unreadable image with a typed error', async () => {
    await shell.app.projects.project?.readPendingHeaders()
    const page = await shell.value<ImagePage>('annot:images.list')
    const broken = page.images.find((image) => image.path === 'e-broken.png')
    expect(broken?.error).not.toBeNull()
    const result = await shell.invoke('annot:segment.decode', {
      imageId: broken?.id,
      points: [{ x: 1, y: 1, label: 1 }],
    })
    expect(result.ok ? 'ok' : result.error.code).toBe('image-unreadable')
  })

  it('exports and imports COCO through the dialogs, with progress events', async () => {
    const file = join(folder, 'export.coco.json')
    expect(await shell.value('annot:export.coco')).toBeNull() // dialog cancelled
    shell.dialogs.saveFiles.push(file)
    const exported = await shell.value<ExportSummary>('annot:export.coco')
    expect(exported).toMatchObject({ file, annotations: 1, categories: 1 })
    expect(JSON.parse(readFileSync(file, 'utf8')).annotations).toHaveLength(1)
    expect(
      shell.events.some(
        (event) => event.name === 'progress' && (event.payload as { task: string }).task === 'export-coco',
      ),
    ).toBe(true)
    shell.dialogs.openFiles.push(file)
    const imported = await shell.value<ImportSummary>('annot:export.importCoco')
    expect(imported).toMatchObject({ imported: 0, skippedAnnotations: { duplicates: 1 } })
    const yoloDir = join(folder, 'yolo-out')
    shell.dialogs.folders.push(yoloDir)
    const yolo = await shell.value<ExportSummary>('annot:export.yolo')
    expect(existsSync(yolo.file)).toBe(true)
  })

  it('a folder that cannot be opened leaves the current project open and working', async () => {
    const current = await shell.value<ProjectSummary>('annot:project.current')
    const damaged = (await makeProjectFolder('sam-shell-damaged-')).dir
    try {
      mkdirSync(join(damaged, '.sam-annotator'))
      writeFileSync(join(damaged, '.sam-annotator', 'project.sqlite'), 'not a database at all, but a user file')
      const eventsBefore = shell.events.length
      shell.dialogs.folders.push(damaged)
      const result = await shell.invoke('annot:project.openDialog')
      expect(result.ok ? 'ok' : result.error.code).toBe('project-unavailable')
      expect(result.ok ? '' : result.error.message).toMatch(/project\.sqlite: the project database is damaged/)
      expect(shell.events.slice(eventsBefore).some((event) => event.name === 'project')).toBe(false)
      expect(await shell.value<ProjectSummary>('annot:project.current')).toMatchObject({
        openId: current.openId,
        folder: current.folder,
      })
      expect((await shell.value<ImagePage>('annot:images.list')).total).toBe(5)
      expect(readFileSync(join(damaged, '.sam-annotator', 'project.sqlite'), 'utf8')).toBe(
        'not a database at all, but a user file',
      )
    } finally {
      rmSync(damaged, { recursive: true, force: true })
    }
  })

  it('closes the project and tells the window', async () => {
    expect(await shell.value('annot:project.close')).toBeNull()
    expect(await shell.value('annot:project.current')).toBeNull()
    expect(shell.events.at(-1)).toEqual({ name: 'project', payload: null })
  })
})
