// Runs geometry tasks (tasks.ts) on worker threads, so that a fragmented mask of a large image
// never holds the Electron main thread: while a worker traces, main keeps answering IPC, drawing
// progress and taking keys. Tasks a person is waiting on (a click's polygons, a save) go before
// background ones (outlines of a listed image); a worker that stops or overruns is replaced and
// its task fails with an error instead of hanging the caller.
import type { Worker } from 'node:worker_threads'
import { UserError } from '../../core/errors.ts'
import { startWorker } from '../worker-script.ts'
import type { GeometryTaskName, GeometryTasks } from './tasks.ts'
import type { TaskError, TaskReply, TaskRequest } from './protocol.ts'

type Args<K extends GeometryTaskName> = Parameters<GeometryTasks[K]>
type Result<K extends GeometryTaskName> = ReturnType<GeometryTasks[K]>

export interface GeometryPoolOptions {
  /** Worker threads at most; default 2 (one click's postprocess need not wait behind a list's outlines). */
  size?: number
  /**
   * A task running longer than this is taken as stuck: its worker is terminated and the task
   * fails. Every input is bounded before it gets here, so this is a last guard, not a budget.
   */
  taskTimeoutMs?: number
}

interface Pending {
  request: TaskRequest
  transfer: ArrayBuffer[]
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  /** The worker has loaded its code (timeouts count from then, not from its start-up). */
  ready: boolean
  running: Pending | null
  timer: NodeJS.Timeout | null
}

function rebuild(error: TaskError): Error {
  let err: Error
  if (error.kind === 'user' && error.code !== null) err = new UserError(error.code, error.message)
  else if (error.kind === 'range') err = new RangeError(error.message)
  else err = new Error(error.message)
  if (error.stack !== null) err.stack = error.stack
  return err
}

export class GeometryPool {
  private readonly size: number
  private readonly taskTimeoutMs: number
  private readonly slots: Slot[] = []
  private readonly urgent: Pending[] = []
  private readonly background: Pending[] = []
  private nextId = 0
  private closed = false

  constructor(options: GeometryPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? 2)
    this.taskTimeoutMs = options.taskTimeoutMs ?? 120_000
  }

  /** Runs `task` on a worker; `background` tasks wait while any urgent task is queued. */
  run<K extends GeometryTaskName>(task: K, args: Args<K>, options: { background?: boolean } = {}): Promise<Result<K>> {
    if (this.closed) return Promise.reject(new Error('the geometry pool is closed'))
    return new Promise<Result<K>>((resolve, reject) => {
      const transfer: ArrayBuffer[] = []
      for (const arg of args) {
        // Typed arrays are copied by the caller when it keeps them; here they are moved.
        if (ArrayBuffer.isView(arg) && arg.buffer instanceof ArrayBuffer) transfer.push(arg.buffer)
      }
      const pending: Pending = {
        request: { id: ++this.nextId, task, args },
        transfer,
        resolve: resolve as (value: unknown) => void,
        reject,
      }
      ;(options.background ? this.background : this.urgent).push(pending)
      this.dispatch()
    })
  }

  /**
   * Starts the workers ahead of their first task: a worker takes a few hundred milliseconds to
   * load, which the first click's polygons should not wait for.
   */
  warm(): void {
    while (!this.closed && this.slots.length < this.size) {
      const slot = this.startSlot()
      // Nothing waits on a warming worker: it must not keep a process alive.
      slot.worker.unref()
    }
  }

  /** Stops every worker; tasks still queued or running fail. */
  async close(): Promise<void> {
    this.closed = true
    const stopped = new Error('the geometry pool is closed')
    for (const pending of [...this.urgent.splice(0), ...this.background.splice(0)]) pending.reject(stopped)
    const slots = this.slots.splice(0)
    for (const slot of slots) {
      if (slot.timer !== null) clearTimeout(slot.timer)
      slot.running?.reject(stopped)
      slot.running = null
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()))
  }

  private dispatch(): void {
    for (;;) {
      const queue = this.urgent.length > 0 ? this.urgent : this.background
      if (queue.length === 0) return
      const slot = this.slots.find((s) => s.ready && s.running === null)
      if (slot === undefined) {
        // A worker still starting takes the next task when it is ready.
        if (this.slots.length < this.size && this.slots.every((s) => s.ready)) this.startSlot()
        return
      }
      const pending = queue.shift() as Pending
      slot.running = pending
      slot.worker.ref()
      const current = slot
      slot.timer = setTimeout(
        () =>
          this.fail(current, new Error(`geometry task '${pending.request.task}' ran over ${this.taskTimeoutMs} ms`)),
        this.taskTimeoutMs,
      )
      slot.worker.postMessage(pending.request, pending.transfer)
    }
  }

  private startSlot(): Slot {
    const slot: Slot = { worker: startWorker('geometry-worker'), ready: false, running: null, timer: null }
    slot.worker.on('message', (reply: TaskReply | 'ready') => {
      if (reply === 'ready') {
        slot.ready = true
        this.dispatch()
        if (slot.running === null) slot.worker.unref()
        return
      }
      const pending = slot.running
      if (pending === null || pending.request.id !== reply.id) return
      if (slot.timer !== null) clearTimeout(slot.timer)
      slot.timer = null
      slot.running = null
      slot.worker.unref()
      if (reply.ok) pending.resolve(reply.result)
      else pending.reject(rebuild(reply.error))
      this.dispatch()
    })
    slot.worker.on('error', (err) => this.fail(slot, err))
    slot.worker.on('exit', (code) => this.fail(slot, new Error(`the geometry worker exited (code ${code})`)))
    // A worker is started for a queued task: until it is ready it keeps the process alive (a CLI
    // or a script awaiting the task has nothing else that does). Idle, it does not.
    this.slots.push(slot)
    return slot
  }

  /**
   * The slot's worker is gone or stuck: its task fails, the worker goes, queued tasks move on.
   * A worker that dies before it is ready cannot run anything: the queued tasks fail with its
   * error rather than start worker after worker.
   */
  private fail(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot)
    if (index < 0) return
    this.slots.splice(index, 1)
    if (slot.timer !== null) clearTimeout(slot.timer)
    slot.timer = null
    const pending = slot.running
    slot.running = null
    void slot.worker.terminate()
    pending?.reject(err)
    if (!slot.ready) {
      const cause = new Error(`the geometry worker could not start: ${err.message}`)
      for (const queued of [...this.urgent.splice(0), ...this.background.splice(0)]) queued.reject(cause)
      return
    }
    if (!this.closed) this.dispatch()
  }
}
