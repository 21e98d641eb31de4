// The prompt loop: points and box in, the decoder's mask out, then accept (save or update
// the re-prompted annotation), combine with the selection, or discard. The prompt itself lives
// in the SessionState (never saved nor undone); only the answer to the latest request shows.
import type { PromptBox, PromptPoint } from '../../../src-preload/contract/schemas.ts'
import { describeError } from '../api.ts'
import type { Vec } from '../geometry/geometry.ts'
import type { Editor } from './editor.svelte.ts'

export class PromptLoop {
  /** Main's decode and postprocess time of the last decode that ran the decoder. */
  lastDecodeMs = $state<number | null>(null)
  /** Renderer-side round trip of the last decode (for the status bar and the bench). */
  roundTripMs = $state<number | null>(null)

  private decodeSeq = 0
  /** The decode in flight, which an accept pressed before its answer waits for. */
  private inflight: Promise<void> | null = null

  constructor(private readonly editor: Editor) {}

  get points(): readonly PromptPoint[] {
    return this.editor.session.prompt.points
  }

  get active(): boolean {
    const prompt = this.editor.session.prompt
    return prompt.points.length > 0 || prompt.box !== null
  }

  /** Per project: the last project's timings are not this one's. */
  reset(): void {
    this.lastDecodeMs = null
    this.roundTripMs = null
  }

  addPoint(at: Vec, label: 0 | 1): void {
    const prompt = this.editor.session.prompt
    if (!this.active) this.startReprompt(at)
    prompt.points = [...prompt.points, { x: Math.round(at.x * 100) / 100, y: Math.round(at.y * 100) / 100, label }]
    void this.decode()
  }

  removePoint(index: number): void {
    const prompt = this.editor.session.prompt
    if (index === prompt.points.length - 1) return this.removeLastPoint()
    prompt.points = prompt.points.filter((_, i) => i !== index)
    if (!this.active) return this.discard()
    void this.decode()
  }

  removeLastPoint(): void {
    const prompt = this.editor.session.prompt
    if (prompt.points.length === 0) return
    prompt.points = prompt.points.slice(0, -1)
    if (!this.active) return this.discard()
    // Main's prompt history restores the mask before this point exactly, without a decoder run.
    void this.decode()
  }

  /**
   * With a saved annotation selected, a prompt whose first point falls on it re-prompts it:
   * main starts the decode from its mask (`reprompt`), so the clicks refine what was saved,
   * and Enter updates it. A first point elsewhere starts a new mask, which Enter saves as a new
   * annotation or + / - add to or cut from the selection.
   */
  private startReprompt(at: Vec): void {
    const selected = this.editor.doc.selected
    if (selected === null || this.editor.edits.hitTest(at)?.id !== selected.id) return
    this.editor.session.prompt.reprompt = selected.id
  }

  setBox(box: PromptBox | null): void {
    const prompt = this.editor.session.prompt
    prompt.box = box
    if (this.active) void this.decode()
  }

  setDragBox(box: PromptBox | null): void {
    this.editor.session.prompt.dragBox = box
  }

  cycleCandidate(step: 1 | -1): void {
    const result = this.editor.session.prompt.result
    if (result === null || result.scores.length < 2) return
    const n = result.scores.length
    void this.decode({ candidate: (result.candidate + step + n) % n })
  }

  /** Sends the whole prompt; only the answer to the latest request is shown. */
  decode(options: { candidate?: number } = {}): Promise<void> {
    const running = this.runDecode(options)
    this.inflight = running
    void running.finally(() => {
      if (this.inflight === running) this.inflight = null
    })
    return running
  }

  private async runDecode(options: { candidate?: number }): Promise<void> {
    const { api, images, session } = this.editor
    const image = images.current
    const prompt = session.prompt
    if (image === null || !this.active) return
    const seq = ++this.decodeSeq
    prompt.pending = true
    const started = performance.now()
    try {
      const result = await api.segment.decode({
        imageId: image.id,
        points: $state.snapshot(prompt.points) as PromptPoint[],
        box: prompt.box === null ? null : { ...prompt.box },
        ...(options.candidate !== undefined ? { candidate: options.candidate } : {}),
        ...(prompt.reprompt !== null ? { reprompt: prompt.reprompt } : {}),
      })
      // A decode needs the embedding, so the image is encoded whatever the last event said.
      if (images.embeddingStates.get(result.imageId) !== 'ready') images.setEmbeddingState(result.imageId, 'ready')
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

  /**
   * Enter: main stores the mask being prompted exactly as it last decoded it (a new annotation,
   * or the re-prompted one updated). The prompt here is cleared at once; main's prompt history
   * ends with the save, so no reset is sent (it could overtake the save). Pressed before the
   * first answer, it waits for it. False, with a message, when there is nothing to save: the
   * prompt stays as it was.
   */
  accept(): boolean {
    const { images, session, messages } = this.editor
    const prompt = session.prompt
    if (images.current === null || (prompt.result === null && this.inflight === null)) {
      messages.say('Nothing to save yet: click on the object first', 'error')
      return false
    }
    void this.save()
    return true
  }

  private async save(): Promise<void> {
    const { images, session, messages, edits } = this.editor
    const image = images.current
    const prompt = session.prompt
    if (prompt.result === null && this.inflight !== null) await this.inflight
    const result = prompt.result
    if (image === null || result === null || result.area <= 0) {
      messages.say(
        result !== null && result.area <= 0 ? 'The mask is empty: nothing saved' : 'Nothing to save yet',
        'error',
      )
      return
    }
    const refined = prompt.reprompt === null ? undefined : edits.annotationById(prompt.reprompt)
    // The document of this project: after an await `editor.doc` may be the next project's.
    const doc = this.editor.doc
    this.clearLocal()
    if (refined !== undefined) {
      await messages.guard(() => doc.update(refined, { prompted: true }, 'Re-prompt annotation'))
      return
    }
    await messages.guard(async () => {
      const categoryId = await edits.categoryForSave(doc)
      await doc.add(image.id, categoryId, { prompted: true })
      images.syncCount()
    })
  }

  /**
   * + / -: the mask being prompted is added to, or cut from, the selected annotation. False,
   * with a message saying what to do, when it cannot be done now: the prompt stays.
   */
  combineWithSelection(op: 'add' | 'subtract'): boolean {
    const { session, messages } = this.editor
    const doc = this.editor.doc
    const selected = doc.selected
    const result = session.prompt.result
    if (selected === null || result === null) {
      messages.say(
        selected === null
          ? 'Select an annotation first (Select tool, V), then prompt the part to add or cut'
          : 'Nothing to combine yet: click on the part first',
        'error',
      )
      return false
    }
    if (session.prompt.reprompt !== null) {
      messages.say('This prompt refines the selection itself: Enter saves it', 'error')
      return false
    }
    this.clearLocal()
    void messages.guard(() => doc.combine(selected, op))
    return true
  }

  /** Forgets the prompt here only (main forgets its own when it takes the mask). */
  private clearLocal(): void {
    this.decodeSeq++
    const prompt = this.editor.session.prompt
    prompt.clear()
    prompt.pending = false
  }

  discard(): void {
    this.decodeSeq++
    const had = this.active
    const prompt = this.editor.session.prompt
    prompt.clear()
    prompt.pending = false
    if (had) void this.editor.api.segment.reset().catch(() => {})
  }
}
