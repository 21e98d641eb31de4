// Annotation edits: the current image's saved annotations as the tools and panels change them
// — hit-testing, selection and hover, vertex edits, delete, category, hand-drawn polygons,
// undo and redo. The document (document.svelte.ts) stores them; this decides which one and
// shows failures.
import type { Annotation } from '../../../src-preload/contract/annotations.ts'
import { hitTargetOf, hitTest, type Hit, type HitTarget, type Vec } from '../geometry/geometry.ts'
import type { DocumentState } from './document.svelte.ts'
import type { Editor } from './editor.svelte.ts'

/** Screen pixels within which a vertex or edge of the selection is hit. */
export const HIT_TOLERANCE = 6

export class AnnotationEdits {
  /** Hit-test targets of the current image's polygons, built once per change. */
  readonly targets = $derived.by(() => this.editor.doc.annotations.map((a): HitTarget => hitTargetOf(a)))

  constructor(private readonly editor: Editor) {}

  get selectedId(): number | null {
    return this.editor.doc.selectedId
  }

  hitTest(at: Vec): Hit | null {
    if (!this.editor.session.annotationsVisible) return null
    return hitTest(this.targets, at, HIT_TOLERANCE * this.editor.view.pixelsPerScreenPixel, this.editor.doc.selectedId)
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
