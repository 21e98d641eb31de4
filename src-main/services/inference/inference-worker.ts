// The worker thread that owns the app's onnxruntime sessions. onnxruntime-node runs a model
// synchronously on the thread that calls it; here that thread is this one, so an encode of
// seconds never holds main's event loop (IPC, keys, drawing).
import { parentPort } from 'node:worker_threads'
import * as ort from 'onnxruntime-node'
import type { InferenceReply, InferenceRequest, WireTensor } from './protocol.ts'

if (parentPort === null) throw new Error('inference-worker must run as a worker thread')
const port = parentPort

const sessions = new Map<number, ort.InferenceSession>()
let nextSession = 0
/** Data main sent once and refers to since (an embedding fed to every click's decoder run). */
const held = new Map<number, ort.Tensor.DataType>()

function tensorOf(wire: WireTensor): ort.Tensor {
  let data = wire.data
  if (wire.ref !== undefined) {
    if (data !== undefined) held.set(wire.ref, data)
    else data = held.get(wire.ref)
  }
  if (data === undefined) throw new Error(`tensor data ${wire.ref} is not held by the inference worker`)
  return new ort.Tensor(wire.type, data as Float32Array, wire.dims)
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
      for (const ref of request.drop) held.delete(ref)
      const session = requireSession(request.session)
      const feeds: Record<string, ort.Tensor> = {}
      for (const [name, wire] of Object.entries(request.feeds)) feeds[name] = tensorOf(wire)
      const out = await session.run(feeds, [...request.fetches])
      const result: Record<string, WireTensor> = {}
      const transfer: ArrayBuffer[] = []
      for (const [name, tensor] of Object.entries(out)) {
        // The session owns its output buffers only until dispose: a copy goes to main.
        const data = (tensor.data as Float32Array).slice()
        tensor.dispose?.()
        result[name] = { type: tensor.type, dims: tensor.dims, data }
        transfer.push(data.buffer as ArrayBuffer)
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
