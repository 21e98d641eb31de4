// The document: what is saved and undoable — the project's categories and the current image's
// annotations. Every change goes through the store first (the promise resolves after the
// SQLite commit) and only then shows here. Annotation changes are commands on a per-image
// History, so undo and redo also persist. One DocumentState serves one open of a project; the
// editor makes a new one for the next, and `close()` stops the old one reaching the store.
import type { Annotation, Api, Category } from '../../../src-preload/contract/index.ts'
import { MAX_PAGE } from '../../../src-preload/contract/limits.ts'
import { History, HistoryClosedError, type Command } from './history.ts'

/**
 * Where a new annotation's geometry comes from; main measures and stores it: polygon rings drawn
 * by hand, or the mask being prompted (main takes it from its prompt history).
 */
export type AnnotationSource = { rings: number[][] } | { prompted: true }

/** A change of a saved annotation: its category, its rings (vertex edits) or the re-prompted mask. */
export type AnnotationChange = { categoryId: number } | { rings: number[][] } | { prompted: true }

/**
 * An annotation's id as seen by commands. Redoing a deletion saves the annotation again under a
 * new id; every command that names it holds this one object, so it follows.
 */
export interface AnnotationRef {
  id: number
}

export class DocumentState {
  categories = $state.raw<Category[]>([])
  annotations = $state.raw<Annotation[]>([])
  imageId = $state<number | null>(null)
  activeCategoryId = $state<number | null>(null)
  /** Counts the user's picks of the active category (keys, clicks). */
  private picks = 0
  selectedId = $state<number | null>(null)
  canUndo = $state(false)
  canRedo = $state(false)

  readonly activeCategory = $derived(this.categories.find((c) => c.id === this.activeCategoryId) ?? null)
  readonly selected = $derived(this.annotations.find((a) => a.id === this.selectedId) ?? null)
  readonly categoryById = $derived(new Map(this.categories.map((c) => [c.id, c])))

  /** Called when a change reached images other than the current one (their counts and statuses). */
  onImagesChanged: () => void = () => {}

  private readonly histories = new Map<number, History>()
  private readonly refs = new Map<number, AnnotationRef>()
  private closed = false

  constructor(private readonly api: Api) {}

  get history(): History | null {
    return this.imageId === null ? null : this.historyOf(this.imageId)
  }

  /** Waits for every queued annotation change to reach the store (before the project changes). */
  async settled(): Promise<void> {
    await Promise.all([...this.histories.values()].map((history) => history.settled()))
  }

  /** The project closed: queued and later annotation changes are refused, undo is gone. */
  close(): void {
    this.closed = true
    for (const history of this.histories.values()) history.close()
    this.canUndo = false
    this.canRedo = false
  }

  private assertOpen(): void {
    if (this.closed) throw new HistoryClosedError()
  }

  private historyOf(imageId: number): History {
    let history = this.histories.get(imageId)
    if (history === undefined) {
      history = new History()
      if (this.closed) history.close()
      history.onChange = () => this.syncHistoryFlags()
      this.histories.set(imageId, history)
    }
    return history
  }

  private syncHistoryFlags(): void {
    const history = this.history
    this.canUndo = history?.canUndo ?? false
    this.canRedo = history?.canRedo ?? false
  }

  /** Runs an undoable change of image `imageId` that is not an annotation edit (its status). */
  record(imageId: number, command: Command): Promise<void> {
    this.assertOpen()
    return this.historyOf(imageId).run(command)
  }

  refOf(id: number): AnnotationRef {
    let ref = this.refs.get(id)
    if (ref === undefined) {
      ref = { id }
      this.refs.set(id, ref)
    }
    return ref
  }

  private rekey(ref: AnnotationRef, id: number): void {
    this.refs.delete(ref.id)
    ref.id = id
    this.refs.set(id, ref)
  }

  // --- categories (not part of annotation undo: they are project settings) -------------------

  async loadCategories(): Promise<void> {
    this.categories = await this.api.categories.list()
    if (this.activeCategoryId === null || !this.categories.some((c) => c.id === this.activeCategoryId)) {
      this.activeCategoryId = this.categories[0]?.id ?? null
    }
  }

  async createCategory(name: string, color?: string): Promise<Category> {
    this.assertOpen()
    const picks = this.picks
    const category = await this.api.categories.create(color === undefined ? { name } : { name, color })
    this.categories = [...this.categories, category]
    // The new category becomes the active one, unless the user picked one meanwhile.
    if (this.picks === picks) this.activeCategoryId = category.id
    return category
  }

  async renameCategory(categoryId: number, name: string): Promise<void> {
    this.assertOpen()
    const renamed = await this.api.categories.rename({ categoryId, name })
    this.categories = this.categories.map((c) => (c.id === categoryId ? renamed : c))
  }

  async recolorCategory(categoryId: number, color: string): Promise<void> {
    this.assertOpen()
    const recolored = await this.api.categories.recolor({ categoryId, color })
    this.categories = this.categories.map((c) => (c.id === categoryId ? recolored : c))
  }

  /** Moves a category one place up (-1) or down (+1). */
  async moveCategory(categoryId: number, step: -1 | 1): Promise<void> {
    this.assertOpen()
    const ids = this.categories.map((c) => c.id)
    const from = ids.indexOf(categoryId)
    const to = from + step
    if (from < 0 || to < 0 || to >= ids.length) return
    ;[ids[from], ids[to]] = [ids[to], ids[from]]
    this.categories = await this.api.categories.reorder({ categoryIds: ids })
  }

  /**
   * Deletes a category; the store refuses while annotations use it unless `force`, which
   * deletes them too, on every image. A forced deletion is a command on the current image's
   * history: undo creates the category again (a new id, same name, colour and place) and saves
   * each of its annotations again by revision (new ids; commands naming them follow).
   */
  async deleteCategory(categoryId: number, force: boolean): Promise<void> {
    this.assertOpen()
    const imageId = this.imageId
    if (!force || imageId === null) {
      await this.api.categories.delete({ categoryId, force })
      this.forgetCategory(categoryId)
      return
    }
    const category = this.categories.find((c) => c.id === categoryId)
    if (category === undefined) return
    const removed = await this.annotationsOf(categoryId)
    let current = categoryId
    await this.historyOf(imageId).run({
      label: `Delete category ${category.name}`,
      apply: async () => {
        await this.api.categories.delete({ categoryId: current, force: true })
        this.forgetCategory(current)
        this.onImagesChanged()
      },
      revert: async () => {
        const order = this.categories.map((c) => c.id)
        const again = await this.api.categories.create({
          name: category.name,
          color: category.color,
          supercategory: category.supercategory,
        })
        current = again.id
        order.splice(Math.min(category.order, order.length), 0, again.id)
        this.categories = await this.api.categories.reorder({ categoryIds: order })
        if (this.activeCategoryId === null) this.activeCategoryId = again.id
        for (const annotation of removed) {
          const ref = this.refOf(annotation.id)
          const saved = await this.api.annotations.save({
            imageId: annotation.imageId,
            categoryId: again.id,
            revision: annotation.revision,
          })
          this.rekey(ref, saved.id)
          annotation.id = saved.id
          this.put(saved)
        }
        this.onImagesChanged()
      },
    })
  }

  private forgetCategory(categoryId: number): void {
    this.categories = this.categories.filter((c) => c.id !== categoryId)
    this.annotations = this.annotations.filter((a) => a.categoryId !== categoryId)
    if (this.activeCategoryId === categoryId) this.activeCategoryId = this.categories[0]?.id ?? null
  }

  /** Every annotation of a category with its revision (what restores it), from each image that has annotations. */
  private async annotationsOf(categoryId: number): Promise<{ id: number; imageId: number; revision: string }[]> {
    const found: { id: number; imageId: number; revision: string }[] = []
    let after: number | undefined
    for (;;) {
      const page = await this.api.images.list({ limit: MAX_PAGE, ...(after === undefined ? {} : { after }) })
      for (const image of page.images) {
        if (image.annotationCount === 0) continue
        for (const a of await this.api.annotations.list({ imageId: image.id }))
          if (a.categoryId === categoryId) found.push({ id: a.id, imageId: a.imageId, revision: a.revision })
      }
      if (page.next === null) return found
      after = page.next
    }
  }

  /** Keys 1-9: the n-th category in display order. */
  selectCategoryByIndex(index: number): boolean {
    const category = this.categories[index]
    if (category === undefined) return false
    this.pickCategory(category.id)
    return true
  }

  /** The user makes a category the active one. */
  pickCategory(categoryId: number): void {
    this.picks++
    this.activeCategoryId = categoryId
  }

  // --- annotations of the current image ---------------------------------------------------------

  async loadImage(imageId: number | null): Promise<void> {
    this.imageId = imageId
    this.selectedId = null
    this.annotations = imageId === null ? [] : await this.api.annotations.list({ imageId })
    this.syncHistoryFlags()
  }

  private put(annotation: Annotation): void {
    if (annotation.imageId !== this.imageId) return
    const rest = this.annotations.filter((a) => a.id !== annotation.id)
    this.annotations = [...rest, annotation].sort((a, b) => a.id - b.id)
  }

  private drop(id: number): void {
    this.annotations = this.annotations.filter((a) => a.id !== id)
    if (this.selectedId === id) this.selectedId = null
  }

  /**
   * Saves a new annotation on `imageId` as an undoable command; resolves with the saved row.
   * Redo saves the same state again by its revision (the prompt it came from is gone by then).
   */
  async add(imageId: number, categoryId: number, source: AnnotationSource): Promise<Annotation> {
    let saved: Annotation | null = null
    let ref: AnnotationRef | null = null
    const command: Command = {
      label: 'Add annotation',
      apply: async () => {
        const again: Annotation | null = saved
        saved = await this.api.annotations.save(
          again === null ? { imageId, categoryId, ...source } : { imageId, categoryId, revision: again.revision },
        )
        if (ref === null) ref = this.refOf(saved.id)
        else this.rekey(ref, saved.id)
        this.put(saved)
      },
      revert: async () => {
        if (ref === null) return
        await this.api.annotations.delete({ annotationId: ref.id })
        this.drop(ref.id)
      },
    }
    await this.historyOf(imageId).run(command)
    if (saved === null) throw new Error('the annotation was not saved')
    return saved
  }

  async remove(annotation: Annotation): Promise<void> {
    const ref = this.refOf(annotation.id)
    await this.historyOf(annotation.imageId).run({
      label: 'Delete annotation',
      apply: async () => {
        await this.api.annotations.delete({ annotationId: ref.id })
        this.drop(ref.id)
      },
      revert: async () => {
        const saved = await this.api.annotations.save({
          imageId: annotation.imageId,
          categoryId: annotation.categoryId,
          revision: annotation.revision,
        })
        this.rekey(ref, saved.id)
        this.put(saved)
      },
    })
  }

  /** Changes a saved annotation; undo (and redo) put back the state before (after) by its revision. */
  async update(annotation: Annotation, change: AnnotationChange, label: string): Promise<void> {
    const ref = this.refOf(annotation.id)
    const before = { categoryId: annotation.categoryId, revision: annotation.revision }
    let after: { categoryId: number; revision: string } | null = null
    const geometry = !('categoryId' in change)
    const restore = (state: { categoryId: number; revision: string }) =>
      geometry
        ? { annotationId: ref.id, revision: state.revision }
        : { annotationId: ref.id, categoryId: state.categoryId }
    await this.historyOf(annotation.imageId).run({
      label,
      apply: async () => {
        const saved = await this.api.annotations.update(
          after === null ? { annotationId: ref.id, ...change } : restore(after),
        )
        after = { categoryId: saved.categoryId, revision: saved.revision }
        this.put(saved)
      },
      revert: async () => this.put(await this.api.annotations.update(restore(before))),
    })
  }

  /** Adds the mask being prompted to an annotation or cuts it away (main computes the geometry). */
  async combine(annotation: Annotation, op: 'add' | 'subtract'): Promise<void> {
    const ref = this.refOf(annotation.id)
    const before = annotation.revision
    let after: string | null = null
    await this.historyOf(annotation.imageId).run({
      label: op === 'add' ? 'Add to annotation' : 'Subtract from annotation',
      apply: async () => {
        const saved = await (after === null
          ? this.api.annotations.combine({ annotationId: ref.id, op })
          : this.api.annotations.update({ annotationId: ref.id, revision: after }))
        after = saved.revision
        this.put(saved)
      },
      revert: async () => this.put(await this.api.annotations.update({ annotationId: ref.id, revision: before })),
    })
  }

  /** New polygon rings for an annotation (main measures them). */
  updateRings(annotation: Annotation, rings: number[][], label: string): Promise<void> {
    return this.update(annotation, { rings }, label)
  }

  async undo(): Promise<boolean> {
    return (await this.history?.undo()) ?? false
  }

  async redo(): Promise<boolean> {
    return (await this.history?.redo()) ?? false
  }
}
