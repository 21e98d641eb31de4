// onnxruntime sessions for the app, each run in a worker thread of its own (inference-worker.ts).
// onnxruntime-node runs a model synchronously on the calling thread: on the Electron main thread
// an encode of seconds would freeze every window and IPC answer. A thread per session also
// lets a click's decoder run while the encoder works on a neighbour for prefetch.
//
// The decoder is fed the same embedding on every click of an image (16 MB with SAM 2.1): data
// sent twice is kept by the worker under a reference and sent by reference after that, within
// a bounded budget, so a click copies a few kilobytes instead.
import * as ort from 'onnxruntime-node'
import type { Worker } from 'node:worker_threads'
import type { ModelSession, SessionFactory } from '../../core/segment/model.ts'
import { startWorker } from '../worker-script.ts'
import type { InferenceReply, InferenceRequest, SessionDescription, WireTensor } from './protocol.ts'

/** Smaller tensors are simply copied each run. */
const MIN_REF_BYTES = 1 << 20
/** Most bytes of referenced data a worker keeps (about eight SAM 2.1 embeddings). */
const MAX_HELD_BYTES = 128 << 20

type Request = InferenceRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

class RemoteSession implements ModelSession {
  private pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>()
  private nextId = 0
  private stopped: Error | null = null
  private description: SessionDescription | null = null
  /** Data seen once, data the worker holds by reference, and the bytes held, oldest first. */
  private seen = new WeakSet<object>()
  private refs = new WeakMap<object, number>()
  private held = new Map<number, number>()
  private heldBytes = 0
  private nextRef = 0

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

  static async open(file: string, options: ort.InferenceSession.SessionOptions): Promise<RemoteSession> {
    const session = new RemoteSession(startWorker('inference-worker'))
    try {
      session.description = (await session.request({ op: 'create', file, options })) as SessionDescription
    } catch (err) {
      await session.worker.terminate()
      throw err
    }
    return session
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
    const used = new Set<number>()
    const wire: Record<string, WireTensor> = {}
    for (const [name, tensor] of Object.entries(feeds)) wire[name] = this.wire(tensor, used)
    const drop: number[] = []
    for (const [ref, bytes] of this.held) {
      if (this.heldBytes <= MAX_HELD_BYTES) break
      if (used.has(ref)) continue
      this.held.delete(ref)
      this.heldBytes -= bytes
      drop.push(ref)
    }
    const session = this.described.session
    const out = (await this.request({ op: 'run', session, feeds: wire, fetches, drop })) as Record<string, WireTensor>
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

  private wire(tensor: ort.Tensor, used: Set<number>): WireTensor {
    const data = tensor.data
    const base = { type: tensor.type, dims: tensor.dims }
    if (typeof data !== 'object' || !ArrayBuffer.isView(data) || data.byteLength < MIN_REF_BYTES)
      return { ...base, data }
    const known = this.refs.get(data)
    if (known !== undefined && this.held.has(known)) {
      // Most recently used goes last.
      const bytes = this.held.get(known) as number
      this.held.delete(known)
      this.held.set(known, bytes)
      used.add(known)
      return { ...base, ref: known }
    }
    if (!this.seen.has(data)) {
      this.seen.add(data)
      return { ...base, data }
    }
    const ref = ++this.nextRef
    this.refs.set(data, ref)
    this.held.set(ref, data.byteLength)
    this.heldBytes += data.byteLength
    used.add(ref)
    return { ...base, data, ref }
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

/** Sessions run in worker threads: pass `sessions` to Engine.open (LoadModelOptions). */
export const workerSessions: SessionFactory = (file, options) => RemoteSession.open(file, options)
