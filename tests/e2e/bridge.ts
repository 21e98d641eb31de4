// Test-only loopback bridge: serves the IPC contract from the real core (real demo model, real
// SQLite, real images) to the built renderer running in Chromium, over plain HTTP on 127.0.0.1.
// The same handler table and registrar as the app (src-main/ipc.ts, handlers.ts) answer every
// call, with a sender that passes the app's own trustedSender check; the page and its assets are
// served by the app's app-protocol function (what app://renderer/<path> answers, here at /<path>),
// `sam-image:` URLs by the app's image-protocol function under /sam-image/. Events go out as
// server-sent events. Nothing here is mocked: only the transport differs from Electron's.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { Engine } from '../../src-main/core/segment/engine.ts'
import { APP_ORIGIN, handleAppRequest } from '../../src-main/app-protocol.ts'
import { createHandlers } from '../../src-main/handlers.ts'
import { handleImageRequest, PreviewCache } from '../../src-main/image-protocol.ts'
import { registerIpc, trustedSender, type IpcEventLike, type IpcListener } from '../../src-main/ipc.ts'
import { AppServices, type Dialogs, type EventSink } from '../../src-main/services/app-services.ts'
import { workerRunners } from '../../src-main/services/inference/inference-client.ts'
import { IMAGE_SCHEME, INVOKE_CHANNELS, type ImageUrls } from '../../src-preload/contract/index.ts'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const DEMO_MODEL = join(ROOT, 'models', 'demo')

export interface BridgeOptions {
  /** The built renderer (index.html and assets). */
  rendererDir: string
  userDataDir: string
  /** What the native dialogs answer (null: cancelled). */
  dialogs: { folder: () => string | null; saveFile: () => string | null; openFile?: () => string | null }
  engine?: Promise<Engine>
}

export interface Bridge {
  url: string
  services: AppServices
  /** Sends an event to the page as main does (a menu click is main emitting `menu`). */
  emit: EventSink
  /** Calls made, in order, with their argument as the page sent it. */
  calls: { channel: string; arg: unknown }[]
  close(): Promise<void>
}

/** The one web-contents id the trusted sender expects. */
const WEB_CONTENTS_ID = 1

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const clients = new Set<ServerResponse>()
  const dialogs: Dialogs = {
    chooseFolder: async () => options.dialogs.folder(),
    chooseSaveFile: async () => options.dialogs.saveFile(),
    chooseOpenFile: async () => options.dialogs.openFile?.() ?? null,
  }
  const emit: EventSink = (name, payload) => {
    const frame = `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`
    for (const client of clients) client.write(frame)
  }
  const services = new AppServices({
    // As main does: the model's sessions run in worker threads.
    engine: options.engine ?? Engine.open({ modelDir: DEMO_MODEL, runners: workerRunners }),
    userDataDir: options.userDataDir,
    projectUserDataDir: join(options.userDataDir, 'projects'),
    dialogs,
    emit,
  })

  const listeners = new Map<string, IpcListener>()
  let pageUrl = ''
  registerIpc({
    registrar: {
      handle: (channel, listener) => listeners.set(channel, listener),
      removeHandler: (channel) => listeners.delete(channel),
    },
    handlers: createHandlers(services),
    isTrustedSender: trustedSender({ webContentsId: () => WEB_CONTENTS_ID, isAppUrl: (url) => url === pageUrl }),
    log: (message, error) => {
      if (error !== null) console.error(message, error)
    },
  })
  const event = (): IpcEventLike => ({ sender: { id: WEB_CONTENTS_ID }, senderFrame: { url: pageUrl, parent: null } })
  const known = new Set(INVOKE_CHANNELS.map((entry) => entry.channel as string))
  const calls: { channel: string; arg: unknown }[] = []
  const cache = new PreviewCache()

  const server: Server = createServer((request, response) => {
    void serve(request, response).catch((err: unknown) => {
      response.statusCode = 500
      response.end(String(err))
    })
  })

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (url.pathname.startsWith('/ipc/') && request.method === 'POST') {
      const channel = decodeURIComponent(url.pathname.slice('/ipc/'.length))
      const body = await readBody(request)
      const listener = listeners.get(channel)
      if (!known.has(channel) || listener === undefined) {
        response.statusCode = 404
        response.end(`no channel ${channel}`)
        return
      }
      const parsed = body === '' ? {} : (JSON.parse(body) as { arg?: unknown })
      calls.push({ channel, arg: parsed.arg })
      const result = await listener(event(), parsed.arg)
      // Chromium cannot fetch the app's custom scheme here: point image URLs at this server.
      if (channel === 'annot:images.urls' && result.ok) {
        const urls = result.value as ImageUrls
        urls.preview = toHttp(urls.preview)
        urls.full = toHttp(urls.full)
      }
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify(result))
      return
    }
    if (url.pathname === '/events') {
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      })
      response.write(': connected\n\n')
      clients.add(response)
      request.on('close', () => clients.delete(response))
      return
    }
    if (url.pathname.startsWith('/sam-image/')) {
      const answer = await handleImageRequest(
        { url: `${IMAGE_SCHEME}://${url.pathname.slice('/sam-image/'.length)}${url.search}`, method: 'GET' },
        services.images,
        cache,
      )
      await send(response, answer)
      return
    }
    const page = await handleAppRequest(
      { url: `${APP_ORIGIN}${url.pathname}${url.search}`, method: request.method ?? 'GET' },
      options.rendererDir,
    )
    await send(response, page)
  }

  async function send(response: ServerResponse, answer: Response): Promise<void> {
    response.statusCode = answer.status
    answer.headers.forEach((value, key) => response.setHeader(key, value))
    response.end(Buffer.from(await answer.arrayBuffer()))
  }

  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  pageUrl = `${base}/`
  const toHttp = (imageUrl: string): string => `${base}/sam-image/${imageUrl.slice(`${IMAGE_SCHEME}://`.length)}`

  return {
    url: pageUrl,
    services,
    emit,
    calls,
    async close() {
      for (const client of clients) client.end()
      clients.clear()
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
      await services.dispose()
    },
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => done(Buffer.concat(chunks).toString('utf8')))
    request.on('error', fail)
  })
}

/**
 * Runs in the page before the app (page.addInitScript): defines `window.api` with the same
 * facade as the preload's buildBridge — one function per channel answering the envelope, and
 * `events.on` — over fetch and EventSource. Self-contained: Playwright sends its source text.
 */
export function installBrowserApi(channels: { domain: string; method: string; channel: string }[]): void {
  const api: Record<string, unknown> = {}
  for (const { domain, method, channel } of channels) {
    const facade = (api[domain] ??= {}) as Record<string, (arg?: unknown) => Promise<unknown>>
    facade[method] = async (arg?: unknown) => {
      const response = await fetch(`/ipc/${encodeURIComponent(channel)}`, {
        method: 'POST',
        body: JSON.stringify({ arg }),
      })
      if (!response.ok)
        return { ok: false, error: { code: 'internal', message: `${channel}: HTTP ${response.status}` } }
      return response.json()
    }
  }
  for (const domain of Object.keys(api)) Object.freeze(api[domain])
  // Typed by hand: this file is type-checked without the DOM library.
  type Handler = (event: { data: string }) => void
  const page = globalThis as unknown as {
    EventSource: new (url: string) => {
      addEventListener(name: string, h: Handler): void
      removeEventListener(name: string, h: Handler): void
    }
  }
  const source = new page.EventSource('/events')
  api['events'] = Object.freeze({
    on(name: string, listener: (payload: unknown) => void): () => void {
      const handler: Handler = (event) => listener(JSON.parse(event.data))
      source.addEventListener(name, handler)
      return () => source.removeEventListener(name, handler)
    },
  })
  Object.defineProperty(globalThis, 'api', { value: Object.freeze(api), writable: false })
}

export const BROWSER_CHANNELS = INVOKE_CHANNELS.map(({ domain, method, channel }) => ({
  domain: domain as string,
  method,
  channel: channel as string,
}))

/**
 * tsx (esbuild with keepNames) wraps named functions in `__name(...)`; functions sent to the
 * page as source text then call a helper that only exists in Node. This defines it in the page.
 */
export const KEEP_NAMES_SHIM = 'globalThis.__name = globalThis.__name || ((target) => target);'
