// Undo and redo of annotation changes as a stack of commands (not copies of lists). A command
// persists through the store both ways: applying it and reverting it are API calls, and the
// document changes only after the store answered. Calls run one at a time, in order.
// A history belongs to one open of a project: once closed (another project opened), queued and
// later calls are refused before they reach the store, since its annotation ids would name
// annotations of the project open now.

export interface Command {
  readonly label: string
  apply(): Promise<void>
  revert(): Promise<void>
}

export class History {
  private readonly done: Command[] = []
  private readonly undone: Command[] = []
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  /** Called after every change of the stacks (the UI shows what undo would do). */
  onChange: () => void = () => {}

  get canUndo(): boolean {
    return !this.closed && this.done.length > 0
  }

  get canRedo(): boolean {
    return !this.closed && this.undone.length > 0
  }

  get undoLabel(): string | null {
    return this.done.at(-1)?.label ?? null
  }

  /** Applies a new command; the redo stack is dropped (a new branch of history). */
  run(command: Command): Promise<void> {
    return this.serial(async () => {
      await command.apply()
      this.done.push(command)
      this.undone.length = 0
    })
  }

  undo(): Promise<boolean> {
    return this.serial(async () => {
      const command = this.done.pop()
      if (command === undefined) return false
      try {
        await command.revert()
      } catch (err) {
        this.done.push(command)
        throw err
      }
      this.undone.push(command)
      return true
    })
  }

  redo(): Promise<boolean> {
    return this.serial(async () => {
      const command = this.undone.pop()
      if (command === undefined) return false
      try {
        await command.apply()
      } catch (err) {
        this.undone.push(command)
        throw err
      }
      this.done.push(command)
      return true
    })
  }

  clear(): void {
    this.done.length = 0
    this.undone.length = 0
    this.onChange()
  }

  /** Refuses every call from now on, queued ones included; the stacks are dropped. */
  close(): void {
    this.closed = true
    this.done.length = 0
    this.undone.length = 0
  }

  /** Resolves when the calls queued so far have finished (whatever their outcome). */
  settled(): Promise<void> {
    return this.queue.then(() => undefined)
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => {
      if (this.closed) return Promise.reject(new HistoryClosedError())
      return work()
    }
    const next = this.queue.then(guarded).finally(() => this.onChange())
    this.queue = next.catch(() => {})
    return next
  }
}

/** A change asked of the history of a project that is no longer open. */
export class HistoryClosedError extends Error {
  override readonly name = 'HistoryClosedError'
  constructor() {
    super('that change belonged to a project that is no longer open; it was not made')
  }
}
