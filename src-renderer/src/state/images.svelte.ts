// Image navigation: the image list (the project's images that match the status and name
// filters, in list order), the current image (its URLs and embedding state), moving between
// images and setting their status.
//
// Sized for 100,000 images: the rows live in a plain array with an id → position map, so a
// change to one image (marked done, its first annotation, its header read) replaces one row
// and bumps `version` instead of copying the list, and finding a row is a map lookup. The list
// component reads `version` and draws only the rows in view. Pages come from main by keyset
// (`after` the last id) and are shown as they arrive.
//
// The list is the filter's answer when it was asked: an image that stops matching (marked done
// under the 'new' filter) keeps its row, so the place the annotator is at never jumps; the
// next change of filter, a rescan or an import asks again.
import type { ImageStatus, ProjectImage, ImageUrls } from '../../../src-preload/contract/index.ts'
import { MAX_PAGE } from '../../../src-preload/contract/limits.ts'
import type { EmbeddingState } from '../../../src-preload/contract/segment.ts'
import type { Editor } from './editor.svelte.ts'

export type StatusFilter = ImageStatus | 'all'

/** How long after the warning about an unsaved mask the same move goes ahead and drops it. */
export const LEAVE_CONFIRM_MS = 4_000

const NO_STATUSES: Readonly<Record<ImageStatus, number>> = { new: 0, in_progress: 0, done: 0, skipped: 0 }

export class ImageNavigation {
  filter = $state<StatusFilter>('all')
  /** Keeps images whose path contains this, ignoring case (main filters, in SQL). */
  name = $state('')
  /** The image shown; it need not be in the list (the filter changed since it was opened). */
  current = $state.raw<ProjectImage | null>(null)
  /** Position of `current` in the list; -1 when it is not in it. */
  index = $state(-1)
  /** Images matching the filters (main's count; the list holds them all once loaded). */
  total = $state(0)
  /** Rows loaded so far. */
  length = $state(0)
  /** Changes whenever a row does: what the list component redraws on. */
  version = $state(0)
  /** Images of each status in the whole project, kept in step with each change here. */
  statuses = $state.raw<Readonly<Record<ImageStatus, number>>>(NO_STATUSES)
  /** Every image of the project, whatever the filters. */
  readonly projectTotal = $derived(
    this.statuses.new + this.statuses.in_progress + this.statuses.done + this.statuses.skipped,
  )
  /** The go-to-image field is open (Ctrl+G). */
  askingNumber = $state(false)
  /** Bumped to move the keyboard into the name filter (Ctrl+F). */
  nameFocus = $state(0)
  urls = $state.raw<ImageUrls | null>(null)
  /**
   * Why the current image cannot be annotated (its file is unreadable or gone), naming the file;
   * null when it can. The canvas shows it, and clicks on the image are refused with it.
   */
  readonly problem = $derived.by(() => {
    const image = this.current
    if (image === null) return null
    if (image.missing) return `${image.path} is missing from the folder: rescan once it is back`
    if (image.error !== null) return `${image.path} cannot be read: ${image.error}`
    return null
  })
  embeddingStates = $state.raw<Map<number, EmbeddingState>>(new Map())

  private rows: ProjectImage[] = []
  /**
   * Embedding events received per image. A status reply is main's state when it answered; an
   * event that arrives while the reply is on its way is newer news, and the reply must not
   * overwrite it (a stale 'reading' would then stand until the next event, which may never come).
   */
  private heard = new Map<number, number>()
  /** When the last move was held back by a live mask (performance.now), and which move it was. */
  private warned: { at: number; move: string } | null = null
  private positions = new Map<number, number>()
  /** Counts list loads; a page for an earlier load is dropped. */
  private loads = 0
  /** Resolves when the current load has every page. */
  private loaded: Promise<void> = Promise.resolve()

  constructor(private readonly editor: Editor) {}

  /** The row at `position` of the list (read `version` to follow changes), or undefined. */
  row(position: number): ProjectImage | undefined {
    return this.rows[position]
  }

  /** Per project: nothing of the last one's images stays. */
  reset(): void {
    this.loads++
    this.rows = []
    this.positions = new Map()
    this.length = 0
    this.total = 0
    this.version++
    this.index = -1
    this.current = null
    this.filter = 'all'
    this.name = ''
    this.askingNumber = false
    this.statuses = NO_STATUSES
    this.urls = null
    this.embeddingStates = new Map()
    this.heard = new Map()
    this.loaded = Promise.resolve()
  }

  /**
   * Asks main for the list again (filters changed, a rescan, an import). Resolves once the
   * first page is shown; `whole()` waits for the rest, which keeps arriving in the background.
   * The current image stays current, refreshed from main (a rescan may have changed it).
   */
  async reload(): Promise<void> {
    const { api, projects } = this.editor
    const seq = projects.seq
    const load = ++this.loads
    const filter = { status: this.filter === 'all' ? undefined : this.filter, name: this.name || undefined }
    const currentId = this.current?.id
    const [first, fresh] = await Promise.all([
      api.images.list({ ...filter, limit: MAX_PAGE }),
      currentId === undefined ? null : api.images.get({ imageId: currentId }),
    ])
    if (seq !== projects.seq || load !== this.loads) return
    this.rows = []
    this.positions = new Map()
    this.index = -1
    this.total = first.total ?? first.images.length
    if (first.statuses !== null) this.statuses = first.statuses
    if (fresh !== null && fresh.id === this.current?.id) this.current = fresh
    this.append(first.images)
    let next = first.next
    this.loaded = (async () => {
      while (next !== null) {
        const page = await api.images.list({ ...filter, after: next, limit: MAX_PAGE })
        if (seq !== projects.seq || load !== this.loads) return
        this.append(page.images)
        next = page.next
      }
    })()
    this.loaded.catch((err: unknown) => this.editor.messages.say(`Image list: ${String(err)}`, 'error'))
  }

  /** Waits until the list holds every image of the current load. */
  whole(): Promise<void> {
    return this.loaded.catch(() => {})
  }

  private append(images: ProjectImage[]): void {
    const start = this.rows.length
    for (let k = 0; k < images.length; k++) {
      this.rows.push(images[k])
      this.positions.set(images[k].id, start + k)
    }
    this.length = this.rows.length
    if (this.total < this.length) this.total = this.length
    const current = this.current
    if (this.index < 0 && current !== null) this.index = this.positions.get(current.id) ?? -1
    this.version++
  }

  setFilter(filter: StatusFilter): Promise<void> {
    if (filter === this.filter) return Promise.resolve()
    this.filter = filter
    return this.refilter()
  }

  setName(name: string): Promise<void> {
    if (name === this.name) return Promise.resolve()
    this.name = name
    return this.refilter()
  }

  private async refilter(): Promise<void> {
    this.index = -1
    await this.editor.messages.guard(() => this.reload())
  }

  /**
   * Whether a move to another image (`move`: the key or click that asked) may go ahead now. A
   * live mask would be lost without a word: the first move only says so and stays; the same move
   * again within LEAVE_CONFIRM_MS goes on and drops it. Keeping it as a draft instead would
   * leave a mask nobody accepted on an image nobody looks at any more; asking twice costs one
   * key press and loses nothing.
   */
  private mayLeave(move: string): boolean {
    const { prompt, messages } = this.editor
    if (!prompt.active) return true
    const now = performance.now()
    const warned = this.warned
    if (warned !== null && warned.move === move && now - warned.at < LEAVE_CONFIRM_MS) {
      this.warned = null
      return true
    }
    this.warned = { at: now, move }
    messages.say(`Unsaved mask: Enter saves it, Escape drops it, ${move} again moves on`, 'error')
    return false
  }

  /** A click on a row of the list: opens it (held back once by a live mask). */
  goTo(position: number): Promise<void> {
    if (this.rows[position]?.id !== this.current?.id && !this.mayLeave('the same click')) return Promise.resolve()
    return this.open(position)
  }

  /** Opens the image at `position` of the list. */
  private open(position: number): Promise<void> {
    const image = this.rows[position]
    if (image === undefined) return Promise.resolve()
    return this.show(image)
  }

  /** Opens `image` (a row of the list, or the current image again after a rescan). */
  async show(shown: ProjectImage): Promise<void> {
    let image = shown
    const editor = this.editor
    editor.prompt.discard()
    editor.tools.current.reset()
    this.current = image
    this.index = this.positions.get(image.id) ?? -1
    this.urls = null
    const seq = editor.projects.seq
    await editor.messages.guard(async () => {
      const [urls] = await Promise.all([editor.api.images.urls({ imageId: image.id }), editor.doc.loadImage(image.id)])
      if (seq !== editor.projects.seq || this.current?.id !== image.id) return
      if (urls.width === null && image.error === null && !image.missing) {
        // Main read the header just now and could not: its row says why.
        const fresh = await editor.api.images.get({ imageId: image.id })
        if (seq !== editor.projects.seq || this.current?.id !== image.id) return
        this.replace(fresh)
        image = fresh
      }
      if (image.error !== null || image.missing) {
        // Nothing will encode it: say so rather than leave the last state (queued) standing.
        this.setEmbeddingState(image.id, 'failed')
        editor.encoding.update(image.id, 'failed')
        // No pixels to load: the canvas shows why instead.
        return
      }
      // The list may predate the header (read in the background after opening): main knows more now.
      const width = image.width ?? urls.width
      const height = image.height ?? urls.height
      if (image.width === null && width !== null && height !== null) this.replace({ ...image, width, height })
      this.urls = urls
      const viewport = editor.session.viewport
      if (width !== null && height !== null && viewport.policy === 'fit') viewport.fit({ width, height })
      if (image.error === null && !image.missing) {
        const heard = this.heard.get(image.id) ?? 0
        const status = await editor.api.segment.setCurrent({ imageId: image.id })
        if (status !== null && seq === editor.projects.seq && (this.heard.get(status.imageId) ?? 0) === heard)
          this.setEmbeddingState(status.imageId, status.state)
      }
    })
  }

  /** D / A: the next or previous image of the list (of the filters), clamped at its ends. */
  async step(delta: 1 | -1): Promise<void> {
    if (!this.mayLeave(delta === 1 ? 'D' : 'A')) return
    let position = this.index
    if (position < 0) {
      // The current image is not in the list: step from where it would stand in list order.
      const after = await this.firstAfterCurrent()
      if (after === null) return
      position = delta === 1 ? after : after - 1
      if (position < 0) position = 0
    } else {
      position += delta
    }
    if (position >= this.length && this.length < this.total) {
      await this.whole()
    }
    return this.open(Math.min(this.length - 1, Math.max(0, position)))
  }

  /**
   * Where the current image would stand in the list: the position of the first listed image
   * after it in list order (the list's length when none is), or null when nothing is open.
   */
  private async firstAfterCurrent(): Promise<number | null> {
    const current = this.current
    if (current === null) return this.length > 0 ? 0 : null
    const page = await this.editor.api.images.list({
      after: current.id,
      limit: 1,
      status: this.filter === 'all' ? undefined : this.filter,
      name: this.name || undefined,
    })
    const next = page.images[0]
    if (next === undefined) return this.length
    if (!this.positions.has(next.id)) await this.whole()
    return this.positions.get(next.id) ?? this.length
  }

  /** Home / End: the first or last image of the list. */
  async first(): Promise<void> {
    if (!this.mayLeave('Home')) return
    return this.open(0)
  }

  async last(): Promise<void> {
    if (!this.mayLeave('End')) return
    await this.whole()
    return this.open(this.length - 1)
  }

  /** Go to image `n` (1-based, as "image n of m" counts) of the list. */
  async goToNumber(n: number): Promise<void> {
    this.askingNumber = false
    if (!Number.isInteger(n) || n < 1 || n > this.total) {
      this.editor.messages.say(`There is no image ${n}: the list has ${this.total}`, 'error')
      return
    }
    if (!this.mayLeave('Go to')) return
    if (n > this.length) await this.whole()
    return this.open(n - 1)
  }

  askNumber(): void {
    this.askingNumber = true
  }

  focusName(): void {
    this.nameFocus++
  }

  /** The first image of the list that is neither done nor skipped (else the first), once the list is in. */
  async openFirstUnfinished(): Promise<void> {
    const seq = this.editor.projects.seq
    let position = this.findUnfinished(0)
    if (position < 0 && this.length < this.total) {
      await this.whole()
      if (seq !== this.editor.projects.seq) return
      position = this.findUnfinished(0)
    }
    return this.open(Math.max(0, position))
  }

  private findUnfinished(from: number): number {
    for (let k = from; k < this.rows.length; k++) {
      const status = this.rows[k].status
      if (status !== 'done' && status !== 'skipped') return k
    }
    return -1
  }

  async nextUnannotated(): Promise<void> {
    if (!this.mayLeave('Shift+D')) return
    await this.whole()
    const n = this.rows.length
    for (let k = 1; k <= n; k++) {
      const position = (this.index + k + n) % n
      if (this.rows[position].annotationCount === 0 && this.rows[position].status !== 'skipped')
        return this.open(position)
    }
    this.editor.messages.say('Every image has annotations')
  }

  /**
   * Ctrl+D / Ctrl+Shift+S: marks the current image done or skipped; on an image already so
   * marked it takes the mark off (in progress, or new without annotations). Either way it is a
   * command on the image's undo history, so Ctrl+Z puts the status back.
   */
  async setStatus(status: ImageStatus): Promise<void> {
    const image = this.current
    if (image === null) return
    const { api, projects, messages } = this.editor
    const doc = this.editor.doc
    const seq = projects.seq
    const before = image.status
    const after: ImageStatus = before !== status ? status : image.annotationCount > 0 ? 'in_progress' : 'new'
    const put = async (to: ImageStatus) => {
      const updated = await api.images.setStatus({ imageId: image.id, status: to })
      if (seq === projects.seq) this.replace(updated)
    }
    const label = before === status ? `Un-mark ${status}` : `Mark ${status}`
    const done = await messages.guard(async () => {
      await doc.record(image.id, { label, apply: () => put(after), revert: () => put(before) })
      return true
    })
    if (done === true && seq === projects.seq) {
      const undo = 'Ctrl+Z undoes'
      messages.say(
        before === status
          ? `Image ${after === 'new' ? 'new' : 'in progress'} again · ${undo}`
          : `Marked ${status} · ${undo}, ${status === 'done' ? 'Ctrl+D' : 'Ctrl+Shift+S'} again un-marks`,
      )
    }
  }

  /** Main reported a change of an image's embedding: it wins over any status reply asked before it. */
  embeddingEvent(imageId: number, state: EmbeddingState): void {
    this.heard.set(imageId, (this.heard.get(imageId) ?? 0) + 1)
    this.setEmbeddingState(imageId, state)
  }

  setEmbeddingState(imageId: number, state: EmbeddingState): void {
    const next = new Map(this.embeddingStates)
    next.set(imageId, state)
    this.embeddingStates = next
  }

  /** One image changed: its row (if listed) and the current image; the status counts follow. O(1). */
  private replace(updated: ProjectImage): void {
    const position = this.positions.get(updated.id)
    const before = position === undefined ? this.current : this.rows[position]
    if (before !== null && before.id === updated.id && before.status !== updated.status) {
      this.statuses = {
        ...this.statuses,
        [before.status]: this.statuses[before.status] - 1,
        [updated.status]: this.statuses[updated.status] + 1,
      }
    }
    if (position !== undefined) {
      this.rows[position] = updated
      this.version++
    }
    if (this.current?.id === updated.id) this.current = updated
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
        // Main's rule, mirrored: a first annotation makes a new image in progress, the last one gone makes it new.
        status:
          image.status === 'new' && count > 0
            ? 'in_progress'
            : image.status === 'in_progress' && count === 0
              ? 'new'
              : image.status,
      })
  }
}
