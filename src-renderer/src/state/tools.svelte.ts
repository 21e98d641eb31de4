// The tools: which one is active, switching, and the `Editing` surface they act through —
// a narrow view of the prompt loop, the annotation edits and the view, so a state machine
// never reaches the rest of the editor.
import type { Vec } from '../geometry/geometry.ts'
import type { ToolPointer } from '../tools/tool.ts'
import type { Editing } from '../tools/editing.ts'
import { createPolygonTool, createSamTool, createSelectTool, type AnyTool, type ToolId } from '../tools/index.ts'
import { CLOSE_RADIUS } from '../tools/polygon/Drawing.ts'
import type { PolygonTool } from '../tools/polygon/index.ts'
import type { SamTool } from '../tools/sam/index.ts'
import type { SelectTool } from '../tools/select/index.ts'
import type { Editor } from './editor.svelte.ts'

export class Tools {
  id = $state<ToolId>('sam')
  /** Vertices of the polygon being drawn by hand. */
  polygonDraft = $state.raw<Vec[]>([])

  readonly sam: SamTool
  readonly select: SelectTool
  readonly polygon: PolygonTool
  readonly current = $derived.by((): AnyTool =>
    this.id === 'sam' ? this.sam : this.id === 'select' ? this.select : this.polygon,
  )

  /** While a polygon is drawn: whether a click at the cursor would close it (on its first vertex). */
  readonly polygonClosable = $derived.by(() => {
    const draft = this.polygonDraft
    const cursor = this.editor.session.cursor
    if (draft.length < 3 || cursor === null || this.current.path !== 'polygon.drawing') return false
    const radius = CLOSE_RADIUS / this.editor.session.viewport.camera.scale
    return Math.hypot(draft[0].x - cursor.x, draft[0].y - cursor.y) <= radius
  })

  constructor(private readonly editor: Editor) {
    const editing = editingSurface(editor, this)
    this.sam = createSamTool(editing).tool
    this.select = createSelectTool(editing)
    this.polygon = createPolygonTool(editing)
  }

  setTool(id: ToolId): void {
    if (this.id === id) return
    this.current.reset()
    if (id !== 'sam') this.editor.prompt.discard()
    // A hover highlight belongs to the tool that was pointing at it.
    this.editor.edits.hover(null)
    this.id = id
  }

  /** A press on the canvas: the current tool's, unless the image cannot be annotated (then why not). */
  pointerDown(pointer: ToolPointer): void {
    const problem = this.editor.images.problem
    if (problem !== null) {
      this.editor.messages.say(problem, 'error')
      return
    }
    this.current.pointerDown(pointer)
  }

  /** B: one box — the next plain drag draws it, then the tool is back to points (BoxArmed). */
  armBox(): void {
    this.setTool('sam')
    if (this.sam.current.id !== 'drawingBox') this.sam.transition('boxArmed')
  }

  /** Per project: every tool back to its first state, no half-drawn polygon. */
  resetAll(): void {
    this.sam.reset()
    this.select.reset()
    this.polygon.reset()
    this.polygonDraft = []
  }
}

/** Built once the prompt loop, the edits and the view exist (the editor makes them first). */
function editingSurface(editor: Editor, tools: Tools): Editing {
  const { prompt, edits, view, images } = editor
  return {
    clampToImage: (p) => {
      const image = images.current
      if (image === null || image.width === null || image.height === null) return p
      return { x: Math.min(Math.max(p.x, 0), image.width), y: Math.min(Math.max(p.y, 0), image.height) }
    },
    panStart: (screen) => {
      editor.session.panning = { start: screen, camera: editor.session.viewport.camera }
    },
    panMove: (screen) => {
      const pan = editor.session.panning
      if (pan === null) return
      editor.session.viewport.set({
        scale: pan.camera.scale,
        x: pan.camera.x + screen.x - pan.start.x,
        y: pan.camera.y + screen.y - pan.start.y,
      })
    },
    panEnd: () => {
      editor.session.panning = null
    },
    get pixelsPerScreenPixel() {
      return view.pixelsPerScreenPixel
    },
    get cursor() {
      return view.cursor
    },
    get promptPoints() {
      return prompt.points
    },
    get hasPrompt() {
      return prompt.active
    },
    addPoint: (at, label) => prompt.addPoint(at, label),
    removePoint: (index) => prompt.removePoint(index),
    removeLastPoint: () => prompt.removeLastPoint(),
    setBox: (box) => prompt.setBox(box),
    setDragBox: (box) => prompt.setDragBox(box),
    cycleCandidate: (step) => prompt.cycleCandidate(step),
    acceptPrompt: () => prompt.accept(),
    discardPrompt: () => prompt.discard(),
    combineWithSelection: (op) => prompt.combineWithSelection(op),
    get selectedId() {
      return edits.selectedId
    },
    hitTest: (at) => edits.hitTest(at),
    annotationById: (id) => edits.annotationById(id),
    select: (id) => edits.select(id),
    hover: (id) => edits.hover(id),
    editable: (id) => edits.editable(id),
    refuse: (message) => edits.refuse(message),
    setEditingRings: (rings) => edits.setEditingRings(rings),
    commitRings: (annotation, rings, label) => edits.commitRings(annotation, rings, label),
    get polygonDraft() {
      return tools.polygonDraft
    },
    set polygonDraft(vertices) {
      tools.polygonDraft = vertices
    },
    savePolygon: (vertices) => edits.savePolygon(vertices),
  }
}
