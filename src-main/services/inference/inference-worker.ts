// The worker thread that owns one of the app's onnxruntime sessions. onnxruntime-node runs a
// model synchronously on the thread that calls it; here that thread is this one, so an encode of
// seconds never holds main's event loop (IPC, keys, drawing).
import { parentPort } from 'node:worker_threads'
import * as ort from 'onnxruntime-node'
import type { InferenceReply, InferenceRequest, WireTensor } from './protocol.ts'

if (parentPort === null) throw new Error('inference-worker must run as a worker thread')
const port = parentPort

const sessions = new Map<number, ort.InferenceSession>()
let nextSession = 0
/** Plain copies of shared inputs by main's key, newest last; a few (one embedding is three). */
const plainByKey = new Map<string, Float32Array>()
const KEPT_PLAIN = 6

function tensorOf(wire: WireTensor): ort.Tensor {
  const data = wire.data
  if (!(data instanceof Float32Array) || !(data.buffer instanceof SharedArrayBuffer))
    return new ort.Tensor(wire.type, data as Float32Array, wire.dims)
  if (wire.key === undefined) return new ort.Tensor('float32', data.slice(), wire.dims)
  // onnxruntime-node takes plain memory only: shared data is copied here, off main's thread,
  // once per buffer main names by key (an embedding, fed to every click).
  // One shared buffer can hold several tensors (an embedding read from the disk cache).
  const key = `${wire.key}:${data.byteOffset}:${data.length}`
  let plain = plainByKey.get(key)
  if (plain === undefined) {
    plain = data.slice()
    plainByKey.set(key, plain)
    for (const oldest of plainByKey.keys()) {
      if (plainByKey.size <= KEPT_PLAIN) break
      plainByKey.delete(oldest)
    }
  }
  return new ort.Tensor('float32', plain, wire.dims)
}

/** A copy of an output in shared memory (the session owns its buffer only until dispose). */
function sharedCopy(data: ort.Tensor.DataType): ort.Tensor.DataType {
  if (!(data instanceof Float32Array)) return Array.isArray(data) ? [...data] : data.slice()
  const shared = new Float32Array(new SharedArrayBuffer(data.byteLength))
  shared.set(data)
  return shared
}

function requireSession(id: number): ort.InferenceSession {
  const session = sessions.get(id)
  if (session === undefined) throw new Error(`inference session ${id} is not open`)
  return session
}

async function handle(request: InferenceRequest): Promise<{ reply: InferenceReply; transfer: ArrayBuffer[] }> {
  switch (request.op) {
    case 'create': {
      const session = await ort.InferenceSession.create(request.file, request.options)
      const id = ++nextSession
      sessions.set(id, session)
      const { inputNames, outputNames, inputMetadata, outputMetadata } = session
      return {
        reply: {
          id: request.id,
          ok: true,
          result: { session: id, inputNames, outputNames, inputMetadata, outputMetadata },
        },
        transfer: [],
      }
    }
    case 'run': {
      const session = requireSession(request.session)
      const feeds: Record<string, ort.Tensor> = {}
      for (const [name, wire] of Object.entries(request.feeds)) feeds[name] = tensorOf(wire)
      const out = await session.run(feeds, [...request.fetches])
      const result: Record<string, WireTensor> = {}
      const transfer: ArrayBuffer[] = []
      for (const [name, tensor] of Object.entries(out)) {
        // Float outputs (an embedding, logits) go to main in shared memory: no copy on its thread.
        const data = sharedCopy(tensor.data)
        tensor.dispose?.()
        result[name] = { type: tensor.type, dims: tensor.dims, data }
        if (!((data as Float32Array).buffer instanceof SharedArrayBuffer))
          transfer.push((data as Float32Array).buffer as ArrayBuffer)
      }
      return { reply: { id: request.id, ok: true, result }, transfer }
    }
    case 'release': {
      await sessions.get(request.session)?.release()
      sessions.delete(request.session)
      return { reply: { id: request.id, ok: true, result: null }, transfer: [] }
    }
  }
}

port.on('message', (request: InferenceRequest) => {
  handle(request).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (err: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        message: err instanceof Error ? err.message : String(err),
      } satisfies InferenceReply),
  )
})
