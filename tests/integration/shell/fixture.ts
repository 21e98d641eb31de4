// A real shell over a real core for the shell tests: a project folder of generated images, the
// demo model's Engine, the app's services, and the real IPC handlers registered into a stand-in for
// ipcMain. Only the process boundaries are replaced: ipcMain (a Map of handlers), the native
// dialogs (answers scripted by the test) and webContents.send (a list of events).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { APP_INDEX_URL } from '../../../src-main/app-protocol.ts'
import { Engine } from '../../../src-main/core/segment/engine.ts'
import { createHandlers } from '../../../src-main/handlers.ts'
import {
  isAppPageUrl,
  registerIpc,
  trustedSender,
  type HandlerTable,
  type IpcEventLike,
  type IpcListener,
  type IpcRegistrar,
} from '../../../src-main/ipc.ts'
import { AppServices, type Dialogs } from '../../../src-main/services/app-services.ts'
import { workerRunners } from '../../../src-main/services/inference/inference-client.ts'
import type { EventName, EventPayloads } from '../../../src-preload/contract/events.ts'
import type { ImagePage } from '../../../src-preload/contract/images.ts'
import type { IpcResult } from '../../../src-preload/contract/result.ts'

export const ROOT = resolve(import.meta.dirname, '..', '..', '..')
export const DEMO_MODEL = join(ROOT, 'models', 'demo')
/** The page the app's window loads (app-protocol.ts), as its frame reports it to IPC. */
export const APP_PAGE = APP_INDEX_URL
export const WINDOW_ID = 7

/** ipcMain as the handlers see it: one listener per channel, a second registration is an error. */
export class FakeIpcMain implements IpcRegistrar {
  readonly listeners = new Map<string, IpcListener>()
  readonly registrations: string[] = []

  handle(channel: string, listener: IpcListener): void {
    this.registrations.push(channel)
    if (this.listeners.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    this.listeners.set(channel, listener)
  }

  removeHandler(channel: string): void {
    this.listeners.delete(channel)
  }

  /** What ipcRenderer.invoke(channel, ...args) from `event`'s frame would get. */
  invoke(event: IpcEventLike, channel: string, ...args: unknown[]): Promise<IpcResult<unknown>> {
    const listener = this.listeners.get(channel)
    if (listener === undefined) throw new Error(`No handler registered for '${channel}'`)
    return listener(event, ...args)
  }
}

export const TRUSTED_EVENT: IpcEventLike = { sender: { id: WINDOW_ID }, senderFrame: { url: APP_PAGE, parent: null } }

export const appSender = trustedSender({
  webContentsId: () => WINDOW_ID,
  isAppUrl: (url) => isAppPageUrl(url, { indexHtmlUrl: APP_PAGE }),
})

/** Dialog answers, taken in order; an empty queue answers "cancelled". */
export class ScriptedDialogs implements Dialogs {
  readonly folders: (string | null)[] = []
  readonly saveFiles: (string | null)[] = []
  readonly openFiles: (string | null)[] = []
  async chooseFolder(): Promise<string | null> {
    return this.folders.shift() ?? null
  }
  async chooseSaveFile(): Promise<string | null> {
    return this.saveFiles.shift() ?? null
  }
  async chooseOpenFile(): Promise<string | null> {
    return this.openFiles.shift() ?? null
  }
}

export const SAND = { r: 230, g: 215, b: 180 }

/** A sand image with a red square: the demo model grows the square from a click inside it. */
export async function squareImage(
  width: number,
  height: number,
  square: { x: number; y: number; size: number },
): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#e6d7b4"/><rect x="${square.x}" y="${square.y}" width="${square.size}" height="${square.size}" fill="#d23c28"/></svg>`
  return sharp(Buffer.from(svg)).png().toBuffer()
}

export interface ProjectFiles {
  dir: string
  /** Relative path → bytes written. */
  files: Map<string, Buffer>
}

/** A folder with a PNG (red square), a JPEG, a TIFF, a large rotated JPEG and a broken file. */
export async function makeProjectFolder(prefix = 'sam-shell-'): Promise<ProjectFiles> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const files = new Map<string, Buffer>()
  const put = (name: string, bytes: Buffer): void => {
    writeFileSync(join(dir, name), bytes)
    files.set(name, bytes)
  }
  put('a-square.png', await squareImage(96, 64, { x: 30, y: 16, size: 32 }))
  put(
    'b-photo.jpg',
    await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .jpeg()
      .toBuffer(),
  )
  put(
    'c-scan.tif',
    await sharp({ create: { width: 50, height: 40, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .tiff()
      .toBuffer(),
  )
  // 3000x1000 stored, EXIF orientation 6 (rotate 90°): 1000x3000 as seen, so its preview is 683x2048.
  put(
    'd-large.jpg',
    await sharp({ create: { width: 3000, height: 1000, channels: 3, background: SAND } })
      .jpeg({ quality: 70 })
      .withMetadata({ orientation: 6 })
      .toBuffer(),
  )
  put('e-broken.png', Buffer.from('this is not a PNG file at all, only text pretending'))
  return { dir, files }
}

export interface Shell {
  app: AppServices
  ipc: FakeIpcMain
  dialogs: ScriptedDialogs
  events: { name: EventName; payload: unknown }[]
  userData: string
  handlers: HandlerTable
  /** Calls from our own window. */
  invoke(channel: string, ...args: unknown[]): Promise<IpcResult<unknown>>
  /** Calls a channel expecting success; fails the test with the error otherwise. */
  value<T = unknown>(channel: string, arg?: unknown): Promise<T>
  dispose(): Promise<void>
}

/**
 * A shell with the real handlers. `wrap` sees every handler call (tests use it to prove that
 * refused input never reaches a service).
 */
export function startShell(
  engine: Promise<Engine>,
  options: { wrap?: (channel: string, call: () => unknown) => unknown } = {},
): Shell {
  const userData = mkdtempSync(join(tmpdir(), 'sam-shell-userdata-'))
  const dialogs = new ScriptedDialogs()
  const events: Shell['events'] = []
  const app = new AppServices({
    // The shared engine stays open across shells; the services' dispose() would close it.
    engine,
    userDataDir: userData,
    dialogs,
    emit: <E extends EventName>(name: E, payload: EventPayloads[E]) => events.push({ name, payload }),
    projectUserDataDir: join(userData, 'projects'),
    prefetch: 0,
  })
  const real = createHandlers(app)
  const handlers = options.wrap ? wrapTable(real, options.wrap) : real
  const ipc = new FakeIpcMain()
  registerIpc({ registrar: ipc, handlers, isTrustedSender: appSender, log: () => {} })
  const invoke = (channel: string, ...args: unknown[]) => ipc.invoke(TRUSTED_EVENT, channel, ...args)
  return {
    app,
    ipc,
    dialogs,
    events,
    userData,
    handlers,
    invoke,
    async value<T>(channel: string, arg?: unknown): Promise<T> {
      const result = await invoke(channel, arg)
      if (!result.ok) throw new Error(`${channel} failed: ${result.error.code}: ${result.error.message}`)
      return result.value as T
    },
    async dispose() {
      await app.projects.close()
      rmSync(userData, { recursive: true, force: true })
    },
  }
}

function wrapTable(table: HandlerTable, wrap: (channel: string, call: () => unknown) => unknown): HandlerTable {
  const wrapped: Record<string, Record<string, (input: unknown) => unknown>> = {}
  for (const [domain, methods] of Object.entries(
    table as unknown as Record<string, Record<string, (input: unknown) => unknown>>,
  )) {
    wrapped[domain] = {}
    for (const [name, fn] of Object.entries(methods)) {
      wrapped[domain][name] = (input) => wrap(`annot:${domain}.${name}`, () => fn(input))
    }
  }
  return wrapped as unknown as HandlerTable
}

/** The demo model as the app opens it: its sessions in worker threads. */
export function openDemoEngine(): Promise<Engine> {
  return Engine.open({ modelDir: DEMO_MODEL, threads: 1, runners: workerRunners })
}

export interface OpenedShell {
  engine: Promise<Engine>
  shell: Shell
  folder: string
  /** Image ids by path in the project. */
  imageIds: Map<string, number>
  /** A category created for the test. */
  categoryId: number
  close(): Promise<void>
}

/** A shell with the demo engine over a freshly opened project (headers read) and one category. */
export async function openShellProject(prefix: string): Promise<OpenedShell> {
  const engine = openDemoEngine()
  const shell = startShell(engine)
  const folder = (await makeProjectFolder(prefix)).dir
  shell.dialogs.folders.push(folder)
  await shell.value('annot:project.openDialog')
  await shell.app.projects.project?.readPendingHeaders()
  const page = await shell.value<ImagePage>('annot:images.list')
  const categoryId = (await shell.value<{ id: number }>('annot:categories.create', { name: 'thing' })).id
  return {
    engine,
    shell,
    folder,
    imageIds: new Map(page.images.map((image) => [image.path, image.id])),
    categoryId,
    async close() {
      await shell.dispose()
      await (await engine).close()
      rmSync(folder, { recursive: true, force: true })
    },
  }
}
