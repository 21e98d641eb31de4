// Builds `window.api` from the contract table: one function per invoke channel, plus
// `events.on`. Electron-free (ipcRenderer arrives as two functions) so tests can build the
// very object the preload exposes and check it against main's handlers.
import { CONTRACT, type BridgeApi } from './contract/index.ts'
import { channelOf } from './contract/define.ts'
import { EVENT_NAMES, eventChannel, type EventName, type EventPayloads } from './contract/events.ts'

export type Invoke = (channel: string, arg: unknown) => Promise<unknown>
export type Subscribe = (channel: string, listener: (payload: unknown) => void) => () => void

export function buildBridge(invoke: Invoke, subscribe: Subscribe): BridgeApi {
  const api: Record<string, unknown> = {}
  for (const [domain, methods] of Object.entries(CONTRACT)) {
    const facade: Record<string, (arg?: unknown) => Promise<unknown>> = {}
    for (const name of Object.keys(methods)) {
      const channel = channelOf(domain, name)
      // Always exactly one argument: main refuses extra ones, and `undefined` is what
      // methods without arguments expect.
      facade[name] = (arg?: unknown) => invoke(channel, arg)
    }
    api[domain] = Object.freeze(facade)
  }
  const known = new Set<string>(EVENT_NAMES)
  api['events'] = Object.freeze({
    on<E extends EventName>(name: E, listener: (payload: EventPayloads[E]) => void): () => void {
      // Only contract events: a page must not listen on arbitrary IPC channels.
      if (!known.has(name)) throw new Error(`unknown event ${String(name)}: expected one of ${EVENT_NAMES.join(', ')}`)
      if (typeof listener !== 'function') throw new Error(`events.on(${name}): the listener must be a function`)
      return subscribe(eventChannel(name), (payload) => listener(payload as EventPayloads[E]))
    },
  })
  // Main answers every invoke with the contract's envelope; the cast records that promise.
  return Object.freeze(api) as BridgeApi
}
