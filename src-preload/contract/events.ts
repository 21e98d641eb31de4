// The `events` domain: what main tells the renderer without being asked. One channel per
// event, `annot:events.<name>`; payloads are built by main (trusted), so they carry types only.
import type { CommandId } from './keymap.ts'
import type { ProjectSummary } from './project.ts'
import type { EmbeddingSource, EmbeddingState } from './segment.ts'

export interface EventPayloads {
  /** An image's embedding changed state (queued, encoding, ready, failed...). */
  embedding: { imageId: number; state: EmbeddingState; source?: EmbeddingSource; error?: string; expectedMs?: number }
  /** The encoder queue: waiting and running jobs, and the image that goes first. */
  queue: { queued: number; running: number; currentImageId: number | null }
  /** A long task's progress; `done === total` when it ends. */
  progress: { task: 'scan' | 'headers' | 'export-coco' | 'export-yolo' | 'import-coco'; done: number; total: number }
  /** A project was opened (menu, second launch, command line) or closed (null). */
  project: ProjectSummary | null
  /**
   * A menu item the renderer carries out (undo, next image...). `byKey`: chosen by its
   * accelerator rather than clicked; typed into a text field, the keys are the field's.
   */
  menu: { command: CommandId; byKey?: boolean }
}

export type EventName = keyof EventPayloads

export const EVENT_NAMES = ['embedding', 'queue', 'progress', 'project', 'menu'] as const satisfies readonly EventName[]

export type EventChannel<E extends EventName = EventName> = `annot:events.${E}`

export function eventChannel<E extends EventName>(name: E): EventChannel<E> {
  return `annot:events.${name}`
}

/** What the preload exposes as `window.api.events`. */
export interface EventsApi {
  /** Subscribes to one event; returns the function that unsubscribes. */
  on<E extends EventName>(name: E, listener: (payload: EventPayloads[E]) => void): () => void
}

// Compile-time check that EVENT_NAMES lists every event (an event missing here could never be subscribed to).
type MissingEventNames = Exclude<EventName, (typeof EVENT_NAMES)[number]>
export const EVENT_NAMES_COMPLETE: MissingEventNames extends never ? true : never = true
