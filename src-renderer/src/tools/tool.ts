// A tool is a small state machine (tldraw's StateNode idea): named states, one file each, one
// current. Pointer events and commands go to the current state; a state moves the machine with
// `transition`. Entering a state may take a snapshot to roll back to; exit always clears the
// state's overlays. The path ('sam.prompting') is public so the UI and tests can see it.
// Plain TypeScript (no runes) so the machines run in unit tests under Node; createSubscriber
// makes `current` and `path` reactive wherever Svelte reads them.
// State ids are each tool's union (`SamStateId`...), so a transition to a state the tool lacks
// does not compile; commands are the keymap's `CommandId`s.
import { createSubscriber } from 'svelte/reactivity'
import type { CommandId } from '../../../src-preload/contract/keymap.ts'
import type { Vec } from '../geometry/geometry.ts'

export interface ToolPointer {
  /** Image pixels. */
  image: Vec
  /** Pixels in the canvas element. */
  screen: Vec
  /** 0 left, 1 middle, 2 right. */
  button: number
  shift: boolean
  ctrl: boolean
  alt: boolean
}

export interface ToolState<S extends string = string> {
  readonly id: S
  enter?(): void
  exit?(): void
  pointerDown?(pointer: ToolPointer): void
  pointerMove?(pointer: ToolPointer): void
  pointerUp?(pointer: ToolPointer): void
  /** True when the state handled the command. */
  command?(id: CommandId): boolean
}

export class Tool<T extends string = string, S extends string = string> {
  private state: ToolState<S>
  private readonly states = new Map<S, ToolState<S>>()
  private changed: () => void = () => {}
  private readonly subscribe = createSubscriber((update) => {
    this.changed = update
    return () => {
      this.changed = () => {}
    }
  })

  constructor(
    readonly id: T,
    states: ToolState<S>[],
  ) {
    for (const state of states) this.states.set(state.id, state)
    this.state = states[0]
  }

  get current(): ToolState<S> {
    this.subscribe()
    return this.state
  }

  /** 'sam.prompting': which tool, which state. */
  get path(): `${T}.${S}` {
    return `${this.id}.${this.current.id}`
  }

  transition(id: S): void {
    const next = this.states.get(id)
    if (next === undefined) throw new Error(`tool ${this.id} has no state ${id}`)
    this.state.exit?.()
    this.state = next
    next.enter?.()
    this.changed()
  }

  /** Back to the first state (tool switched away, image changed). */
  reset(): void {
    const first = this.states.values().next().value
    if (first !== undefined && first !== this.state) this.transition(first.id)
    else this.state.exit?.()
  }

  pointerDown(pointer: ToolPointer): void {
    this.state.pointerDown?.(pointer)
  }

  pointerMove(pointer: ToolPointer): void {
    this.state.pointerMove?.(pointer)
  }

  pointerUp(pointer: ToolPointer): void {
    this.state.pointerUp?.(pointer)
  }

  command(id: CommandId): boolean {
    return this.state.command?.(id) ?? false
  }
}
