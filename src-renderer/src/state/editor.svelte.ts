// The editor: one object that owns the open project's session in the renderer — the image list
// and the current image, the document (categories, annotations, undo), the session (camera,
// prompt), the tools, and the calls to main. Tools act through its `Editing` surface; the
// canvas and panels read its state and never decide what an input means.
//
// Everything of a project is per open: opening another project (or the same one again) starts
// a new document, session, image list and message, and an answer that arrives for the project
// before is dropped (`projectSeq`). Image ids restart in every project, so an id alone never
// says which project an answer is about.
import type { Annotation, Api, ExportSummary, ImageStatus, ImageSummary, ImageUrls, ModelInfo, ProjectSummary, RecentProject } from '../../../src-preload/contract/index.ts'
import type { PromptBox, PromptPoint } from '../../../src-preload/contract/annotations.ts'
import type { EmbeddingState } from '../../../src-preload/contract/segment.ts'
import { describeError } from '../api.ts'
import { actualSizeCamera, hitTest, ringsMeasure, zoomAt, type Hit, type HitTarget, type Vec } from '../geometry/geometry.ts'
import { maskTile, tileContains } from '../geometry/rle.ts'
import { createPolygonTool } from '../tools/polygon/index.ts'
import { createSamTool } from '../tools/sam/index.ts'
import { createSelectTool } from '../tools/select/index.ts'
import type { Editing } from '../tools/editing.ts'
import type { Tool } from '../tools/tool.ts'
import { DocumentState } from './document.svelte.ts'
import { SessionState } from './session.svelte.ts'

/** Screen pixels within which a vertex or edge of the selection is hit. */
export const HIT_TOLERANCE = 6
const IMAGE_PAGE = 1000

export type ToolId = 'sam' | 'select' | 'polygon'

export class Editor implements Editing {
  /** Replaced on every project open: see the header. */
  doc = $state.raw<DocumentState>() as DocumentState
  session = $state.raw(new SessionState())

  model = $state.raw<ModelInfo | null>(null)
  modelError = $state<string | null>(null)
  project = $state.raw<ProjectSummary | null>(null)
  recent = $state.raw<RecentProject[]>([])
  images = $state.raw<ImageSummary[]>([])
  imageFilter = $state<ImageStatus | 'all'>('all')
  imageIndex = $state(-1)
  urls = $state.raw<ImageUrls | null>(null)
  embeddingStates = $state.raw<Map<number, EmbeddingState>>(new Map())
  lastDecodeMs = $state<number | null>(null)
  message = $state<{ text: string; kind: 'info' | 'error' } | null>(null)
  exportProgress = $state.raw<{ done: number; total: number } | null>(null)
  exportResult = $state<string | null>(null)
  busy = $state(false)
  toolId = $state<ToolId>('sam')
  polygonDraft = $state.raw<Vec[]>([])

  readonly sam: Tool
  readonly selectTool: Tool
  readonly polygon: Tool
  readonly tool = $derived.by((): Tool => (this.toolId === 'sam' ? this.sam : this.toolId === 'select' ? this.selectTool : this.polygon))
  readonly image = $derived(this.images[this.imageIndex] ?? null)
  readonly visibleImages = $derived(this.imageFilter === 'all' ? this.images : this.images.filter((i) => i.status === this.imageFilter))
  /** Hit-test targets of the current image's polygons, built once per change. */
  readonly targets = $derived.by(() =>
    this.doc.annotations.map((a): HitTarget => {
      const segmentation = a.segmentation
      if (Array.isArray(segmentation)) return { id: a.id, rings: segmentation, bbox: a.bbox }
      const tile = maskTile(segmentation, a.bbox)
      return { id: a.id, rings: [], bbox: a.bbox, contains: (p) => tileContains(tile, p.x, p.y) }
    }),
  )

  private decodeSeq = 0
  /** Counts project opens and closes; work begun under an earlier value is stale. */
  private projectSeq = 0
  private readonly unsubscribe: (() => void)[] = []

  constructor(readonly api: Api) {
    this.doc = new DocumentState(api)
    this.sam = createSamTool(this).tool
    this.selectTool = createSelectTool(this)
    this.polygon = createPolygonTool(this)
  }

  // --- start-up, project ------------------------------------------------------------------------

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.api.events.on('embedding', ({ imageId, state }) => {
        const next = new Map(this.embeddingStates)
        next.set(imageId, state)
        this.embeddingStates = next
      }),
      this.api.events.on('progress', (progress) => {
        if (progress.task === 'export-coco' || progress.task === 'export-yolo') this.exportProgress = { done: progress.done, total: progress.total }
      }),
      this.api.events.on('project', (summary) => {
        if (summary !== null) void this.adoptProject(summary)
        else if (this.project !== null) this.leaveProject()
      }),
      this.api.events.on('menu', ({ command }) => void this.run(command)),
    )
    this.api.model
      .info()
      .then((info) => (this.model = info))
      .catch((err: unknown) => (this.modelError = describeError(err)))
    const [current, recent] = await Promise.all([this.api.project.current(), this.api.project.recent()])
    this.recent = recent
    if (current !== null) await this.adoptProject(current)
  }

  dispose(): void {
    for (const stop of this.unsubscribe) stop()
  }

  async openDialog(): Promise<void> {
    await this.guard(async () => {
      // Changes still queued for this project reach it before main switches.
      await this.doc.settled()
      const summary = await this.api.project.openDialog()
      if (summary !== null) await this.adoptProject(summary)
    }, { switching: true })
  }

  async openRecent(folder: string): Promise<void> {
    await this.guard(async () => {
      await this.doc.settled()
      await this.adoptProject(await this.api.project.open({ folder }))
    }, { switching: true })
  }

  /** Shows a project main has opened; the call's answer and main's event both lead here, once. */
  private async adoptProject(summary: ProjectSummary): Promise<void> {
    if (summary.openId === this.project?.openId) return
    this.startProjectState()
    this.project = summary
    const seq = this.projectSeq
    await this.doc.loadCategories()
    if (seq !== this.projectSeq) return
    await this.reloadImages()
    if (seq !== this.projectSeq) return
    const first = this.images.findIndex((i) => i.status !== 'done' && i.status !== 'skipped')
    await this.goTo(Math.max(0, first))
  }

  /**
   * A fresh start for the next project: the old document refuses further changes (its ids name
   * annotations of the project open now), and history, view, images, messages and progress go.
   * The canvas size and the chosen tool are the user's, not the project's: they stay.
   */
  private startProjectState(): void {
    this.projectSeq++
    this.discardPrompt()
    this.sam.reset()
    this.selectTool.reset()
    this.polygon.reset()
    this.doc.close()
    this.doc = new DocumentState(this.api)
    const view = this.session.viewport.view
    this.session = new SessionState()
    this.session.viewport.view = view
    this.images = []
    this.imageIndex = -1
    this.imageFilter = 'all'
    this.urls = null
    this.embeddingStates = new Map()
    this.lastDecodeMs = null
    this.roundTripMs = null
    this.message = null
    this.exportProgress = null
    this.exportResult = null
    this.polygonDraft = []
  }

  /** Main closed the project (or the user did): back to the welcome screen with nothing stale. */
  private leaveProject(): void {
    this.startProjectState()
    this.project = null
  }

  /** The whole project order, a page at a time (a 10,000-image folder is about 1 MB of rows). */
  async reloadImages(): Promise<void> {
    const seq = this.projectSeq
    const all: typeof this.images = []
    for (;;) {
      const page = await this.api.images.list({ offset: all.length, limit: IMAGE_PAGE })
      all.push(...page.images)
      if (page.images.length < IMAGE_PAGE || all.length >= page.total) break
    }
    if (seq === this.projectSeq) this.images = all
  }

  async closeProject(): Promise<void> {
    await this.guard(async () => {
      await this.doc.settled()
      this.discardPrompt()
      await this.api.project.close()
      this.leaveProject()
      this.recent = await this.api.project.recent()
    }, { switching: true })
  }

  // --- images -----------------------------------------------------------------------------------

  async goTo(index: number): Promise<void> {
    if (index < 0 || index >= this.images.length) return
    this.discardPrompt()
    this.tool.reset()
    this.imageIndex = index
    const image = this.images[index]
    this.urls = null
    const seq = this.projectSeq
    await this.guard(async () => {
      const [urls] = await Promise.all([this.api.images.urls({ imageId: image.id }), this.doc.loadImage(image.id)])
      if (seq !== this.projectSeq || this.image?.id !== image.id) return
      // The list may predate the header (read in the background after opening): main knows more now.
      const width = image.width ?? urls.width
      const height = image.height ?? urls.height
      if (image.width === null && width !== null && height !== null) this.replaceImage({ ...image, width, height })
      this.urls = urls
      if (width !== null && height !== null && this.session.viewport.policy === 'fit') this.session.viewport.fit({ width, height })
      if (image.error === null && !image.missing) {
        const status = await this.api.segment.setCurrent({ imageId: image.id })
        if (status !== null && seq === this.projectSeq) this.setEmbeddingState(status.imageId, status.state)
      }
    })
  }

  private setEmbeddingState(imageId: number, state: EmbeddingState): void {
    const next = new Map(this.embeddingStates)
    next.set(imageId, state)
    this.embeddingStates = next
  }

  step(delta: 1 | -1): Promise<void> {
    return this.goTo(Math.min(this.images.length - 1, Math.max(0, this.imageIndex + delta)))
  }

  async nextUnannotated(): Promise<void> {
    const n = this.images.length
    for (let k = 1; k <= n; k++) {
      const index = (this.imageIndex + k) % n
      if (this.images[index].annotationCount === 0 && this.images[index].status !== 'skipped') return this.goTo(index)
    }
    this.say('Every image has annotations')
  }

  async setStatus(status: ImageStatus): Promise<void> {
    const image = this.image
    if (image === null) return
    const seq = this.projectSeq
    await this.guard(async () => {
      const updated = await this.api.images.setStatus({ imageId: image.id, status })
      if (seq === this.projectSeq) this.replaceImage(updated)
    })
  }

  private replaceImage(updated: ImageSummary): void {
    this.images = this.images.map((i) => (i.id === updated.id ? updated : i))
  }

  /** Keeps the list's annotation count of the current image in step with the document. */
  private syncCount(): void {
    const image = this.image
    if (image === null || image.id !== this.doc.imageId) return
    const count = this.doc.annotations.length
    if (image.annotationCount !== count) this.replaceImage({ ...image, annotationCount: count, status: image.status === 'new' && count > 0 ? 'in_progress' : image.status })
  }

  // --- camera -----------------------------------------------------------------------------------

  get pixelsPerScreenPixel(): number {
    return 1 / this.session.viewport.camera.scale
  }

  get cursor(): Vec | null {
    return this.session.cursor
  }

  fit(): void {
    const image = this.image
    if (image?.width != null && image.height != null) this.session.viewport.fit({ width: image.width, height: image.height })
  }

  zoom(factor: number, at?: Vec): void {
    const { view, camera } = this.session.viewport
    this.session.viewport.set(zoomAt(camera, at ?? { x: view.width / 2, y: view.height / 2 }, factor))
  }

  actualSize(): void {
    this.session.viewport.set(actualSizeCamera(this.session.viewport.camera, this.session.viewport.view))
  }

  // --- prompting (Editing) ----------------------------------------------------------------------

  get promptPoints(): readonly PromptPoint[] {
    return this.session.prompt.points
  }

  get hasPrompt(): boolean {
    return this.session.prompt.points.length > 0 || this.session.prompt.box !== null
  }

  addPoint(at: Vec, label: 0 | 1): void {
    const prompt = this.session.prompt
    if (!this.hasPrompt) this.startReprompt(at)
    prompt.steps.push(prompt.result)
    prompt.points = [...prompt.points, { x: Math.round(at.x * 100) / 100, y: Math.round(at.y * 100) / 100, label }]
    void this.decode()
  }

  removePoint(index: number): void {
    const prompt = this.session.prompt
    if (index === prompt.points.length - 1) return this.removeLastPoint()
    prompt.points = prompt.points.filter((_, i) => i !== index)
    prompt.steps = prompt.steps.slice(0, prompt.points.length + (prompt.box ? 1 : 0))
    if (!this.hasPrompt) return this.discardPrompt()
    void this.decode()
  }

  removeLastPoint(): void {
    const prompt = this.session.prompt
    if (prompt.points.length === 0) return
    prompt.points = prompt.points.slice(0, -1)
    // The mask before this point, exactly as it was shown; main restores the same state.
    const previous = prompt.steps.pop() ?? null
    if (!this.hasPrompt) return this.discardPrompt()
    prompt.result = previous
    void this.decode({ keepShown: true })
  }

  /**
   * With a saved annotation selected, a prompt whose first point falls on it re-prompts it:
   * main starts the decode from its mask (`reprompt`), so the clicks refine what was saved,
   * and Enter updates it. A first point elsewhere starts a new mask, which Enter saves as a new
   * annotation or + / - add to or cut from the selection.
   */
  private startReprompt(at: Vec): void {
    const selected = this.doc.selected
    if (selected === null || this.hitTest(at)?.id !== selected.id) return
    this.session.prompt.reprompt = selected.id
  }

  setBox(box: PromptBox | null): void {
    const prompt = this.session.prompt
    prompt.steps.push(prompt.result)
    prompt.box = box
    if (this.hasPrompt) void this.decode()
  }

  setDragBox(box: PromptBox | null): void {
    this.session.prompt.dragBox = box
  }

  cycleCandidate(step: 1 | -1): void {
    const result = this.session.prompt.result
    if (result === null || result.scores.length < 2) return
    const n = result.scores.length
    void this.decode({ candidate: (result.candidate + step + n) % n })
  }

  /** Sends the whole prompt; only the answer to the latest request is shown. */
  async decode(options: { candidate?: number; keepShown?: boolean } = {}): Promise<void> {
    const image = this.image
    const prompt = this.session.prompt
    if (image === null || !this.hasPrompt) return
    const seq = ++this.decodeSeq
    prompt.pending = true
    const started = performance.now()
    try {
      const result = await this.api.segment.decode({
        imageId: image.id,
        points: $state.snapshot(prompt.points) as PromptPoint[],
        box: prompt.box === null ? null : { ...prompt.box },
        ...(options.candidate !== undefined ? { candidate: options.candidate } : {}),
        ...(prompt.reprompt !== null ? { reprompt: prompt.reprompt } : {}),
      })
      // A decode needs the embedding, so the image is encoded whatever the last event said.
      if (this.embeddingStates.get(result.imageId) !== 'ready') this.setEmbeddingState(result.imageId, 'ready')
      if (seq !== this.decodeSeq) return
      prompt.result = result
      prompt.error = null
      this.lastDecodeMs = result.restored ? this.lastDecodeMs : result.timings.decode + result.timings.postprocess
      this.roundTripMs = performance.now() - started
    } catch (err) {
      if (seq !== this.decodeSeq) return
      prompt.error = describeError(err)
    } finally {
      if (seq === this.decodeSeq) prompt.pending = false
    }
  }

  /** Renderer-side round trip of the last decode (for the status bar and the bench). */
  roundTripMs = $state<number | null>(null)

  async acceptPrompt(): Promise<void> {
    const image = this.image
    const prompt = this.session.prompt
    const result = prompt.result
    if (image === null || result === null || result.area <= 0) {
      this.say('Nothing to save yet: click on the object first', 'error')
      return
    }
    const points = $state.snapshot(prompt.points) as PromptPoint[]
    const box = prompt.box === null ? null : { ...prompt.box }
    const refined = prompt.reprompt === null ? undefined : this.annotationById(prompt.reprompt)
    // The document of this project: after an await `this.doc` may be the next project's.
    const doc = this.doc
    this.discardPrompt()
    if (refined !== undefined) {
      // The stored prompt keeps every click that shaped the annotation, earlier ones first.
      const before = refined.prompt
      const record = { points: [...(before?.points ?? []), ...points], box: box ?? before?.box ?? null }
      await this.guard(() =>
        doc.update(
          refined,
          { segmentation: result.segmentation, bbox: result.bbox, area: result.area, score: Math.min(1, Math.max(0, result.score)), prompt: record },
          'Re-prompt annotation',
        ),
      )
      return
    }
    await this.guard(async () => {
      const categoryId = await this.activeCategoryIdOrDefault(doc)
      await doc.add(image.id, {
        categoryId,
        segmentation: result.segmentation,
        bbox: result.bbox,
        area: result.area,
        score: Math.min(1, Math.max(0, result.score)),
        prompt: { points, box },
      })
      this.syncCount()
    })
  }

  /** The active category; a project without any gets an 'object' category on its first save. */
  private async activeCategoryIdOrDefault(doc: DocumentState): Promise<number> {
    if (doc.activeCategoryId !== null) return doc.activeCategoryId
    const created = await doc.createCategory('object')
    return created.id
  }

  /** + / -: the mask being prompted is added to, or cut from, the selected annotation. */
  async combineWithSelection(op: 'add' | 'subtract'): Promise<void> {
    const selected = this.doc.selected
    const result = this.session.prompt.result
    if (selected === null || result === null) {
      this.say(selected === null ? 'Select an annotation first, then prompt the part to add or cut' : 'Nothing to combine yet: click on the part first', 'error')
      return
    }
    if (this.session.prompt.reprompt !== null) {
      this.say('This prompt refines the selection itself: Enter saves it', 'error')
      return
    }
    const doc = this.doc
    this.discardPrompt()
    await this.guard(() => doc.combine(selected, result.segmentation, op))
  }

  discardPrompt(): void {
    this.decodeSeq++
    const had = this.hasPrompt
    this.session.prompt.clear()
    this.session.prompt.pending = false
    if (had) void this.api.segment.reset().catch(() => {})
  }

  // --- saved annotations (Editing) ----------------------------------------------------------------

  get selectedId(): number | null {
    return this.doc.selectedId
  }

  hitTest(at: Vec): Hit | null {
    if (!this.session.annotationsVisible) return null
    return hitTest(this.targets, at, HIT_TOLERANCE * this.pixelsPerScreenPixel, this.doc.selectedId)
  }

  annotationById(id: number): Annotation | undefined {
    return this.doc.annotations.find((a) => a.id === id)
  }

  select(id: number | null): void {
    this.doc.selectedId = id
  }

  hover(id: number | null): void {
    this.session.hoveredId = id
  }

  setEditingRings(rings: number[][] | null): void {
    this.session.editingRings = rings
  }

  commitRings(annotation: Annotation, rings: number[][], label: string): void {
    void this.guard(() => this.doc.updateRings(annotation, rings, label))
  }

  async deleteSelected(): Promise<void> {
    const selected = this.doc.selected
    if (selected === null) return
    await this.guard(() => this.doc.remove(selected))
    this.syncCount()
  }

  async setSelectedCategory(): Promise<void> {
    const selected = this.doc.selected
    const categoryId = this.doc.activeCategoryId
    if (selected === null || categoryId === null || selected.categoryId === categoryId) return
    await this.guard(() => this.doc.update(selected, { categoryId }, 'Change category'))
  }

  async savePolygon(vertices: Vec[]): Promise<void> {
    const image = this.image
    if (image === null) return
    const ring = vertices.flatMap((v) => [v.x, v.y])
    const { area, bbox } = ringsMeasure([ring])
    const doc = this.doc
    await this.guard(async () => {
      const categoryId = await this.activeCategoryIdOrDefault(doc)
      await doc.add(image.id, { categoryId, segmentation: [ring], bbox, area, score: null, prompt: null })
      this.syncCount()
    })
  }

  async undo(): Promise<void> {
    await this.guard(() => this.doc.undo())
    this.syncCount()
  }

  async redo(): Promise<void> {
    await this.guard(() => this.doc.redo())
    this.syncCount()
  }

  // --- export -----------------------------------------------------------------------------------

  async exportCoco(): Promise<void> {
    await this.export(() => this.api.export.coco({ segmentation: 'auto' }))
  }

  async exportYolo(): Promise<void> {
    await this.export(() => this.api.export.yolo())
  }

  /** Runs an export (main asks where), showing its progress and then what it wrote. */
  private async export(run: () => Promise<ExportSummary | null>): Promise<void> {
    this.exportProgress = { done: 0, total: 0 }
    this.exportResult = null
    const seq = this.projectSeq
    await this.guard(async () => {
      const summary = await run()
      if (seq !== this.projectSeq || summary === null) return
      const inPlace = summary.imagesInPlace === true ? ' (the images were already in place: labels only)' : ''
      this.exportResult = `${summary.annotations} annotations on ${summary.images} images written to ${summary.file}${inPlace}`
      this.say(this.exportResult)
    })
    if (seq === this.projectSeq) this.exportProgress = null
  }

  // --- commands (keys and menu) -------------------------------------------------------------------

  setTool(id: ToolId): void {
    if (this.toolId === id) return
    this.tool.reset()
    if (id !== 'sam') this.discardPrompt()
    this.toolId = id
  }

  /** Carries out a keymap command; false when it means nothing now. */
  run(command: string): boolean {
    if (this.tool.command(command)) return true
    if (command.startsWith('category.')) return this.doc.selectCategoryByIndex(Number(command.slice('category.'.length)) - 1)
    switch (command) {
      case 'project.open':
        void this.openDialog()
        return true
      case 'export.coco':
        void this.exportCoco()
        return true
      case 'export.yolo':
        void this.exportYolo()
        return true
      case 'edit.undo':
        void this.undo()
        return true
      case 'edit.redo':
        void this.redo()
        return true
      case 'view.fit':
        this.fit()
        return true
      case 'view.zoomIn':
        this.zoom(1.25)
        return true
      case 'view.zoomOut':
        this.zoom(0.8)
        return true
      case 'view.actualSize':
        this.actualSize()
        return true
      case 'view.shortcuts':
        this.session.helpOpen = !this.session.helpOpen
        return true
      case 'view.toggleAnnotations':
        this.session.annotationsVisible = !this.session.annotationsVisible
        return true
      case 'image.next':
        void this.step(1)
        return true
      case 'image.previous':
        void this.step(-1)
        return true
      case 'image.nextUnannotated':
        void this.nextUnannotated()
        return true
      case 'image.markDone':
        void this.setStatus('done')
        return true
      case 'image.markSkipped':
        void this.setStatus('skipped')
        return true
      case 'tool.sam':
        this.setTool('sam')
        return true
      case 'tool.box':
        // One box: the next plain drag draws it, then the tool is back to points (BoxArmed).
        this.setTool('sam')
        if (this.sam.current.id !== 'drawingBox') this.sam.transition('boxArmed')
        return true
      case 'tool.select':
        this.setTool('select')
        return true
      case 'tool.polygon':
        this.setTool('polygon')
        return true
      case 'annotation.delete':
        void this.deleteSelected()
        return true
      case 'annotation.setCategory':
        void this.setSelectedCategory()
        return true
      case 'annotation.cancel':
        if (this.session.helpOpen) this.session.helpOpen = false
        else this.select(null)
        return true
      default:
        return false
    }
  }

  // --- messages -----------------------------------------------------------------------------------

  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message = { text, kind }
  }

  /**
   * Runs work and shows its failure as the message, unless the project changed meanwhile: then
   * it is news of a project no longer shown. Opening and closing change the project themselves
   * (`switching`), so their failures always show.
   */
  private async guard<T>(work: () => Promise<T>, options: { switching?: boolean } = {}): Promise<T | undefined> {
    const seq = this.projectSeq
    try {
      return await work()
    } catch (err) {
      if (options.switching === true || seq === this.projectSeq) this.say(describeError(err), 'error')
      return undefined
    }
  }
}
