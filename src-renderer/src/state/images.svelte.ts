// Image navigation: the project's image list, the current image (its URLs and embedding
// state), the status filter, moving between images and setting their status.
import type { ImageStatus, ProjectImage, ImageUrls } from '../../../src-preload/contract/index.ts'
import type { EmbeddingState } from '../../../src-preload/contract/segment.ts'
import type { Editor } from './editor.svelte.ts'

const IMAGE_PAGE = 1000

export class ImageNavigation {
  list = $state.raw<ProjectImage[]>([])
  filter = $state<ImageStatus | 'all'>('all')
  index = $state(-1)
  urls = $state.raw<ImageUrls | null>(null)
  embeddingStates = $state.raw<Map<number, EmbeddingState>>(new Map())

  readonly current = $derived(this.list[this.index] ?? null)
  readonly visible = $derived(this.filter === 'all' ? this.list : this.list.filter((i) => i.status === this.filter))

  constructor(private readonly editor: Editor) {}

  /** Per project: nothing of the last one's images stays. */
  reset(): void {
    this.list = []
    this.index = -1
    this.filter = 'all'
    this.urls = null
    this.embeddingStates = new Map()
  }

  /**
   * The whole project order, a page at a time (a 10,000-image folder is about 1 MB of rows).
   * The current image stays current: a rescan may have put new files before it.
   */
  async reload(): Promise<void> {
    const { api, projects } = this.editor
    const seq = projects.seq
    const all: ProjectImage[] = []
    for (;;) {
      const page = await api.images.list({ offset: all.length, limit: IMAGE_PAGE })
      all.push(...page.images)
      if (page.images.length < IMAGE_PAGE || all.length >= page.total) break
    }
    if (seq !== projects.seq) return
    const currentId = this.current?.id
    this.list = all
    const index = currentId === undefined ? -1 : all.findIndex((i) => i.id === currentId)
    if (index >= 0) this.index = index
  }

  async goTo(index: number): Promise<void> {
    const editor = this.editor
    if (index < 0 || index >= this.list.length) return
    editor.prompt.discard()
    editor.tools.current.reset()
    this.index = index
    const image = this.list[index]
    this.urls = null
    const seq = editor.projects.seq
    await editor.messages.guard(async () => {
      const [urls] = await Promise.all([editor.api.images.urls({ imageId: image.id }), editor.doc.loadImage(image.id)])
      if (seq !== editor.projects.seq || this.current?.id !== image.id) return
      // The list may predate the header (read in the background after opening): main knows more now.
      const width = image.width ?? urls.width
      const height = image.height ?? urls.height
      if (image.width === null && width !== null && height !== null) this.replace({ ...image, width, height })
      this.urls = urls
      const viewport = editor.session.viewport
      if (width !== null && height !== null && viewport.policy === 'fit') viewport.fit({ width, height })
      if (image.error === null && !image.missing) {
        const status = await editor.api.segment.setCurrent({ imageId: image.id })
        if (status !== null && seq === editor.projects.seq) this.setEmbeddingState(status.imageId, status.state)
      }
    })
  }

  step(delta: 1 | -1): Promise<void> {
    return this.goTo(Math.min(this.list.length - 1, Math.max(0, this.index + delta)))
  }

  async nextUnannotated(): Promise<void> {
    const n = this.list.length
    for (let k = 1; k <= n; k++) {
      const index = (this.index + k) % n
      if (this.list[index].annotationCount === 0 && this.list[index].status !== 'skipped') return this.goTo(index)
    }
    this.editor.messages.say('Every image has annotations')
  }

  async setStatus(status: ImageStatus): Promise<void> {
    const image = this.current
    if (image === null) return
    const { api, projects, messages } = this.editor
    const seq = projects.seq
    await messages.guard(async () => {
      const updated = await api.images.setStatus({ imageId: image.id, status })
      if (seq === projects.seq) this.replace(updated)
    })
  }

  setEmbeddingState(imageId: number, state: EmbeddingState): void {
    const next = new Map(this.embeddingStates)
    next.set(imageId, state)
    this.embeddingStates = next
  }

  private replace(updated: ProjectImage): void {
    this.list = this.list.map((i) => (i.id === updated.id ? updated : i))
  }

  /** Keeps the list's annotation count of the current image in step with the document. */
  syncCount(): void {
    const image = this.current
    const doc = this.editor.doc
    if (image === null || image.id !== doc.imageId) return
    const count = doc.annotations.length
    if (image.annotationCount !== count)
      this.replace({
        ...image,
        annotationCount: count,
        status: image.status === 'new' && count > 0 ? 'in_progress' : image.status,
      })
  }
}
