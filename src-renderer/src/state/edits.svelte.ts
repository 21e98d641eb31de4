// Annotation edits: the current image's saved annotations as the tools and panels change them
// — hit-testing, selection and hover, vertex edits, delete, category, hand-drawn polygons,
// undo and redo. The document (document.svelte.ts) stores them; this decides which one and
// shows failures.
import type { Annotation } from '../../../src-preload/contract/annotations.ts'
import {
  hitTargetOf,
  hitTest,
  SpatialGrid,
  thinHandles,
  type Hit,
  type HitTarget,
  type Vec,
} from '../geometry/geometry.ts'
import type { DocumentState } from './document.svelte.ts'
import type { Editor } from './editor.svelte.ts'

/** Screen pixels within which a vertex or edge of the selection is hit. */
export const HIT_TOLERANCE = 6

/** Screen pixels between two vertex handles at least: closer ones are left out until zoomed in. */
export const HANDLE_SPACING = 10

export class AnnotationEdits {
  /** The annotations shown: hidden categories' are neither drawn nor hit. */
  readonly shown = $derived.by(() => {
    const hidden = this.editor.session.hiddenCategories
    const annotations = this.editor.doc.annotations
    return hidden.size === 0 ? annotations : annotations.filter((a) => !hidden.has(a.categoryId))
  })
  /** Hit-test targets of the shown annotations, built once per change, and their spatial index. */
  readonly targets = $derived.by(() => this.shown.map((a): HitTarget => hitTargetOf(a)))
  readonly index = $derived(new SpatialGrid(this.targets.map((t) => t.bbox)))
  /** The selection's target (its rings: outer rings and holes), when shown. */
  readonly selectedTarget = $derived(this.targets.find((t) => t.id === this.editor.doc.selectedId) ?? null)
  /** Which of the selection's vertices show a handle at this zoom (no two overlap). */
  readonly handles = $derived.by(() => {
    const target = this.selectedTarget
    if (target === null) return []
    return thinHandles(target.rings, this.editor.session.viewport.camera.scale, HANDLE_SPACING)
  })

  constructor(private readonly editor: Editor) {}

  get selectedId(): number | null {
    return this.editor.doc.selectedId
  }

  hitTest(at: Vec): Hit | null {
    if (!this.editor.session.annotationsVisible) return null
    return hitTest(
      this.targets,
      at,
      HIT_TOLERANCE * this.editor.view.pixelsPerScreenPixel,
      this.editor.doc.selectedId,
      {
        index: this.index,
        handles: this.handles,
      },
    )
  }

  /** Whether the annotation's vertices can be edited (a mask with holes cannot: see hitTargetOf). */
  editable(id: number): boolean {
    return this.targets.find((t) => t.id === id)?.editable ?? false
  }

  /** A vertex edit refused, with why. */
  refuse(message: string): void {
    this.editor.messages.say(message)
  }

  annotationById(id: number): Annotation | undefined {
    return this.editor.doc.annotations.find((a) => a.id === id)
  }

  select(id: number | null): void {
    this.editor.doc.selectedId = id
  }

  hover(id: number | null): void {
    this.editor.session.hoveredId = id
  }

  setEditingRings(rings: number[][] | null): void {
    this.editor.session.editingRings = rings
  }

  commitRings(annotation: Annotation, rings: number[][], label: string): void {
    const doc = this.editor.doc
    void this.editor.messages.guard(() => doc.updateRings(annotation, rings, label))
  }

  async deleteSelected(): Promise<void> {
    const doc = this.editor.doc
    const selected = doc.selected
    if (selected === null) return
    await this.editor.messages.guard(() => doc.remove(selected))
    this.editor.images.syncCount()
  }

  /** Keys 1-9: the n-th category becomes the active one; false when there is none. */
  selectCategory(n: number): boolean {
    return this.editor.doc.selectCategoryByIndex(n - 1)
  }

  async setSelectedCategory(): Promise<void> {
    const doc = this.editor.doc
    const selected = doc.selected
    const categoryId = doc.activeCategoryId
    if (selected === null || categoryId === null || selected.categoryId === categoryId) return
    await this.editor.messages.guard(() => doc.update(selected, { categoryId }, 'Change category'))
  }

  async savePolygon(vertices: Vec[]): Promise<void> {
    const image = this.editor.images.current
    if (image === null) return
    const ring = vertices.flatMap((v) => [v.x, v.y])
    const doc = this.editor.doc
    await this.editor.messages.guard(async () => {
      const categoryId = await this.categoryForSave(doc)
      await doc.add(image.id, categoryId, { rings: [ring] })
      this.editor.images.syncCount()
    })
  }

  /** The active category; a project without any gets an 'object' category on its first save. */
  async categoryForSave(doc: DocumentState): Promise<number> {
    if (doc.activeCategoryId !== null) return doc.activeCategoryId
    const created = await doc.createCategory('object')
    return created.id
  }

  async undo(): Promise<void> {
    const doc = this.editor.doc
    await this.editor.messages.guard(() => doc.undo())
    this.editor.images.syncCount()
  }

  async redo(): Promise<void> {
    const doc = this.editor.doc
    await this.editor.messages.guard(() => doc.redo())
    this.editor.images.syncCount()
  }
}
