// What tools may ask of the editor: the narrow surface their states act through, so a state
// machine can be driven in a unit test with a stand-in editor and no canvas.
import type { Annotation } from '../../../src-preload/contract/annotations.ts'
import type { PromptBox } from '../../../src-preload/contract/schemas.ts'
import type { Hit, Vec } from '../geometry/geometry.ts'

export interface Editing {
  /** Image pixels per screen pixel (hit tolerances are given on screen). */
  readonly pixelsPerScreenPixel: number
  readonly cursor: Vec | null
  /** A drag that moves the view: where it started on screen, then where the pointer is now. */
  panStart(screen: Vec): void
  panMove(screen: Vec): void
  panEnd(): void
  /** The point moved into the image ([0, W] x [0, H]): vertices outside it are not a polygon of it. */
  clampToImage(p: Vec): Vec

  // prompting (with a saved annotation selected, the first point re-prompts it)
  readonly promptPoints: readonly { x: number; y: number; label: 0 | 1 }[]
  readonly hasPrompt: boolean
  addPoint(at: Vec, label: 0 | 1): void
  removePoint(index: number): void
  removeLastPoint(): void
  setBox(box: PromptBox | null): void
  setDragBox(box: PromptBox | null): void
  cycleCandidate(step: 1 | -1): void
  /** Saves the prompted mask; false (and a message) when there is nothing to save, the prompt kept. */
  acceptPrompt(): boolean
  discardPrompt(): void
  /**
   * Adds the prompted mask to the selection, or cuts it away; false (and a message) when that
   * cannot be done now, the prompt kept.
   */
  combineWithSelection(op: 'add' | 'subtract'): boolean

  // saved annotations
  readonly selectedId: number | null
  hitTest(at: Vec): Hit | null
  annotationById(id: number): Annotation | undefined
  select(id: number | null): void
  hover(id: number | null): void
  /** Whether its vertices may be moved: a mask with holes may not (edited rings have no holes). */
  editable(id: number): boolean
  /** Tells the user why an edit was not made. */
  refuse(message: string): void
  setEditingRings(rings: number[][] | null): void
  commitRings(annotation: Annotation, rings: number[][], label: string): void

  // manual polygon
  polygonDraft: Vec[]
  savePolygon(vertices: Vec[]): Promise<void>
}
