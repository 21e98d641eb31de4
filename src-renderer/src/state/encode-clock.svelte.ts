// How long the current image's embedding has been on its way, and how long encodes usually take
// (main's running average, sent with the 'encoding' event). With real SAM weights an encode
// takes seconds on a laptop CPU; a click meanwhile waits for it, and without a clock that wait
// looks like a hang.
import type { EmbeddingState } from '../../../src-preload/contract/segment.ts'

/** States in which the embedding is still on its way. */
const PENDING: ReadonlySet<EmbeddingState> = new Set(['queued', 'reading', 'preprocessing', 'encoding'])

/** How often the shown time moves. */
const TICK_MS = 100

export interface PendingEmbedding {
  imageId: number
  state: EmbeddingState
  /** When the first pending state of this image arrived (performance.now()). */
  since: number
  /** When its encoder run started, or null before. */
  encodingSince: number | null
  /** Main's running average of encoder runs, or null before the first one. */
  expectedMs: number | null
}

export class EncodeClock {
  /** Pending embeddings by image, from main's events. */
  private pending = $state.raw<ReadonlyMap<number, PendingEmbedding>>(new Map())
  /** The time the view shows against; moves while anything is pending. */
  now = $state(performance.now())
  private timer: ReturnType<typeof setInterval> | null = null

  /** Follows one 'embedding' event. */
  update(imageId: number, state: EmbeddingState, expectedMs?: number): void {
    const next = new Map(this.pending)
    const now = performance.now()
    if (PENDING.has(state)) {
      const before = next.get(imageId)
      next.set(imageId, {
        imageId,
        state,
        since: before?.since ?? now,
        encodingSince: state === 'encoding' ? (before?.encodingSince ?? now) : (before?.encodingSince ?? null),
        expectedMs: expectedMs ?? before?.expectedMs ?? null,
      })
    } else next.delete(imageId)
    this.pending = next
    this.now = now
    if (next.size > 0 && this.timer === null) this.timer = setInterval(() => (this.now = performance.now()), TICK_MS)
    if (next.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  of(imageId: number | null): PendingEmbedding | null {
    return imageId === null ? null : (this.pending.get(imageId) ?? null)
  }

  reset(): void {
    this.pending = new Map()
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}
