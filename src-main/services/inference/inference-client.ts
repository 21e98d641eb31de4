// onnxruntime sessions for the app, each run in a worker thread of its own (inference-worker.ts).
// onnxruntime-node runs a model synchronously on the calling thread: on the Electron main thread
// an encode of seconds would freeze every window and IPC answer. A thread per session also
// lets a click's decoder run while the encoder works on a neighbour for prefetch. Encoder inputs
// and embeddings live in shared memory (core/shared-arrays.ts), so crossing to a worker copies
// nothing on main's thread; small tensors (points, logits) are copied.
import * as ort from 'onnxruntime-node'
import type { Worker } from 'node:worker_threads'
import type { ModelRunner, RunnerFactory } from '../../core/segment/model.ts'
import { startWorker } from '../worker-script.ts'
import type { InferenceReply, InferenceRequest, SessionDescription, WireTensor } from './protocol.ts'

type Request = InferenceRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

const keys = new WeakMap<SharedArrayBuffer, number>()
let nextKey = 0
function keyOf(buffer: SharedArrayBuffer): number {
  let key = keys.get(buffer)
  if (key === undefined) keys.set(buffer, (key = ++nextKey))
  return key
}
function isShared(data: ort.Tensor.DataType): data is Float32Array & { buffer: SharedArrayBuffer } {
  return data instanceof Float32Array && data.buffer instanceof SharedArrayBuffer
}

class WorkerRunner implements ModelRunner {
  private pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>()
  private nextId = 0
  private stopped: Error | null = null
  private description: SessionDescription | null = null

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: InferenceReply) => {
      const waiting = this.pending.get(reply.id)
      if (waiting === undefined) return
      this.pending.delete(reply.id)
      if (this.pending.size === 0) worker.unref()
      if (reply.ok) waiting.resolve(reply.result)
      else waiting.reject(new Error(reply.message))
    })
    worker.on('error', (err) => this.stop(err))
    worker.on('exit', (code) => this.stop(new Error(`the inference worker exited (code ${code})`)))
    worker.unref()
  }

  static async open(file: string, options: ort.InferenceSession.SessionOptions): Promise<WorkerRunner> {
    const runner = new WorkerRunner(startWorker('inference-worker'))
    try {
      runner.description = (await runner.request({ op: 'create', file, options })) as SessionDescription
    } catch (err) {
      await runner.worker.terminate()
      throw err
    }
    return runner
  }

  private get described(): SessionDescription {
    if (this.description === null) throw new Error('the inference session is not open')
    return this.description
  }
  get inputNames(): readonly string[] {
    return this.described.inputNames
  }
  get outputNames(): readonly string[] {
    return this.described.outputNames
  }
  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.described.inputMetadata
  }
  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.described.outputMetadata
  }

  async run(feeds: Record<string, ort.Tensor>, fetches: readonly string[]): Promise<Record<string, ort.Tensor>> {
    const wire: Record<string, WireTensor> = {}
    for (const [name, tensor] of Object.entries(feeds)) {
      const { type, dims, data } = tensor
      wire[name] = { type, dims, data, ...(isShared(data) ? { key: keyOf(data.buffer) } : {}) }
    }
    const session = this.described.session
    const out = (await this.request({ op: 'run', session, feeds: wire, fetches })) as Record<string, WireTensor>
    const result: Record<string, ort.Tensor> = {}
    for (const [name, t] of Object.entries(out)) result[name] = new ort.Tensor(t.type, t.data as Float32Array, t.dims)
    return result
  }

  async release(): Promise<void> {
    if (this.stopped === null && this.description !== null) {
      await this.request({ op: 'release', session: this.description.session }).catch(() => {})
    }
    this.stop(new Error('the inference session was released'))
    await this.worker.terminate()
  }

  private request(message: Request): Promise<unknown> {
    if (this.stopped !== null) return Promise.reject(this.stopped)
    const id = ++this.nextId
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.ref()
      this.worker.postMessage({ ...message, id })
    })
  }

  private stop(err: Error): void {
    if (this.stopped !== null) return
    this.stopped = err
    for (const waiting of this.pending.values()) waiting.reject(err)
    this.pending.clear()
  }
}

/** Model runners in worker threads: pass as `runners` to Engine.open (LoadModelOptions). */
export const workerRunners: RunnerFactory = (file, options) => WorkerRunner.open(file, options)
