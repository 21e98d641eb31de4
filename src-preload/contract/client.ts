// The renderer's client over `window.api`: the same methods, resolving with the value or
// rejecting with an ApiError that keeps its `code`. It runs in the renderer's world because
// contextBridge would strip an error's class and fields on the way out of the preload.
// Built from the bridge object itself, so it pulls no schemas (and no zod) into the renderer.
import type { Api, BridgeApi } from './index.ts'
import { unwrap, type IpcResult } from './result.ts'

type AnyMethod = (arg?: unknown) => Promise<IpcResult<unknown>>

export function createApi(bridge: BridgeApi): Api {
  const client: Record<string, unknown> = { events: bridge.events }
  for (const [domain, methods] of Object.entries(bridge)) {
    if (domain === 'events') continue
    const wrapped: Record<string, (arg?: unknown) => Promise<unknown>> = {}
    for (const [name, call] of Object.entries(methods as Record<string, AnyMethod>)) {
      const channel = `annot:${domain}.${name}`
      wrapped[name] = async (arg) => unwrap(channel, await call(arg))
    }
    client[domain] = Object.freeze(wrapped)
  }
  return Object.freeze(client) as Api
}
