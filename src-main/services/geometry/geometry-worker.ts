// The worker thread that runs geometry tasks (tasks.ts) for the geometry pool. Errors cross the
// thread as plain data and are rebuilt on the other side with their class and code, so a
// UserError from a worker reaches the renderer exactly as one from main would.
import { parentPort } from 'node:worker_threads'
import { UserError } from '../../core/errors.ts'
import { geometryTasks, type GeometryTaskName } from './tasks.ts'
import type { TaskReply, TaskRequest } from './protocol.ts'

if (parentPort === null) throw new Error('geometry-worker must run as a worker thread')
const port = parentPort

/** Typed arrays of the result are moved, not copied, back to main. */
function transferables(value: unknown): ArrayBuffer[] {
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) return [value.buffer]
  return []
}

port.on('message', (request: TaskRequest) => {
  let reply: TaskReply
  let transfer: ArrayBuffer[] = []
  try {
    const run = geometryTasks[request.task as GeometryTaskName] as ((...args: unknown[]) => unknown) | undefined
    if (run === undefined) throw new Error(`unknown geometry task '${request.task}'`)
    const result = run(...request.args)
    reply = { id: request.id, ok: true, result }
    transfer = transferables(result)
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err))
    reply = {
      id: request.id,
      ok: false,
      error: {
        kind: error instanceof UserError ? 'user' : error instanceof RangeError ? 'range' : 'other',
        code: error instanceof UserError ? error.code : null,
        message: error.message,
        stack: error.stack ?? null,
      },
    }
  }
  port.postMessage(reply, transfer)
})
port.postMessage('ready')
