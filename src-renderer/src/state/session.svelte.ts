// The session: what is never saved nor undone — the camera, the cursor, what is hovered, the
// prompt being built (points, box, the decoder's answer) and the rings being dragged.
import type { PromptBox, PromptPoint } from '../../../src-preload/contract/schemas.ts'
import type { DecodeResult } from '../../../src-preload/contract/segment.ts'
import { fitCamera, type Camera, type Vec } from '../geometry/geometry.ts'

export class ViewportState {
  camera = $state.raw<Camera>({ scale: 1, x: 0, y: 0 })
  view = $state.raw({ width: 800, height: 600 })
  /** 'fit': every new image is fitted; 'manual': the user's zoom and position are kept. */
  policy = $state<'fit' | 'manual'>('fit')
  /** The image last fitted, so a resized canvas keeps it fitted. */
  private fitted: { width: number; height: number } | null = null

  fit(image: { width: number; height: number }): void {
    this.fitted = image
    this.camera = fitCamera(image, this.view)
    this.policy = 'fit'
  }

  /** The canvas changed size (window, panels, a status line that wraps): a fitted image stays fitted. */
  resize(view: { width: number; height: number }): void {
    if (view.width === this.view.width && view.height === this.view.height) return
    this.view = view
    if (this.policy === 'fit' && this.fitted !== null) this.camera = fitCamera(this.fitted, view)
  }

  set(camera: Camera): void {
    this.camera = camera
    this.policy = 'manual'
  }
}

/** The object being prompted: its points and box, and the decoder's answers as they came. */
export class PromptState {
  points = $state.raw<PromptPoint[]>([])
  box = $state.raw<PromptBox | null>(null)
  /** The mask shown: the latest answer (or a restored earlier one). */
  result = $state.raw<DecodeResult | null>(null)
  pending = $state(false)
  error = $state<string | null>(null)
  /** The saved annotation this prompt re-prompts (its stored prompt came first); null: a new object. */
  reprompt = $state<number | null>(null)
  /** Box being dragged (image pixels), before it becomes the prompt's box. */
  dragBox = $state.raw<PromptBox | null>(null)

  readonly active = $derived(this.points.length > 0 || this.box !== null)

  clear(): void {
    this.points = []
    this.box = null
    this.result = null
    this.error = null
    this.dragBox = null
    this.reprompt = null
  }
}

export class SessionState {
  readonly viewport = new ViewportState()
  readonly prompt = new PromptState()
  cursor = $state.raw<Vec | null>(null)
  hoveredId = $state<number | null>(null)
  /** Rings of the selection while a vertex is dragged (drawn instead of the saved ones). */
  editingRings = $state.raw<number[][] | null>(null)
  annotationsVisible = $state(true)
  /** Categories whose annotations are hidden: neither drawn nor hit. */
  hiddenCategories = $state.raw<ReadonlySet<number>>(new Set())
  helpOpen = $state(false)
  spaceHeld = $state(false)
  /** A drag moving the view (Space, middle button, or the Select tool on empty canvas): where it began. */
  panning = $state.raw<{ start: Vec; camera: Camera } | null>(null)
}
