// Electron main process: one hardened window, the IPC table, the app: and sam-image: protocols,
// the menu, the single-instance lock and the remembered window bounds. Thin on purpose: the work
// lives in src-main/core/ (no Electron there) behind the services of services/app-services.ts, and
// everything here that can be tested without Electron is a pure module (ipc.ts, app-protocol.ts,
// image-protocol.ts, navigation.ts, menu.ts, argv.ts, window-state.ts, native-sqlite.ts). Never
// imports Svelte or Konva.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  protocol,
  screen,
  session,
  type MenuItemConstructorOptions,
} from 'electron'
import { Engine } from './core/segment/engine.ts'
import { defaultModelDir } from './core/segment/model.ts'
import { APP_INDEX_URL, APP_SCHEME, handleAppRequest, refuseFileRequest } from './app-protocol.ts'
import { folderArgument } from './argv.ts'
import { createHandlers } from './handlers.ts'
import { handleImageRequest, PreviewCache } from './image-protocol.ts'
import { isAppPageUrl, registerIpc, trustedSender } from './ipc.ts'
import { buildMenuTemplate, type MenuItemTemplate } from './menu.ts'
import { workerRunners } from './services/inference/inference-client.ts'
import { APP_PAGES, mayNavigate, mayRequest, type AppPages } from './navigation.ts'
import { electronSqliteBinding, useElectronSqlite } from './native-sqlite.ts'
import { AppServices, type Dialogs, type EventSink } from './services/app-services.ts'
import { loadWindowState, MIN_SIZE, restoreBounds, saveWindowState } from './window-state.ts'
import { eventChannel } from '../src-preload/contract/events.ts'
import { IMAGE_SCHEME } from '../src-preload/contract/images.ts'
import { KEYMAP, type CommandId } from '../src-preload/contract/keymap.ts'

const PRELOAD_PATH = fileURLToPath(new URL('../preload/index.cjs', import.meta.url))
// The built renderer, served as app://renderer/ (app-protocol.ts); inside app.asar when packaged.
const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url))
// electron-vite sets ELECTRON_RENDERER_URL for `electron-vite dev`; a packaged app must never
// follow it, or an environment variable could point the window at any page.
const DEV_RENDERER_URL = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined
const PAGES: AppPages = { ...APP_PAGES, ...(DEV_RENDERER_URL !== undefined ? { devServerUrl: DEV_RENDERER_URL } : {}) }

/** Where models/ lives: the project root in development, beside app.asar when packaged. */
function modelsRoot(): string {
  const appPath = app.getAppPath()
  // models/demo is unpacked from the asar (electron-builder.yml) because onnxruntime reads
  // model files with native code, which cannot see inside an asar archive.
  return join(appPath.endsWith('.asar') ? `${appPath}.unpacked` : appPath, 'models')
}

let mainWindow: BrowserWindow | null = null

/**
 * Web contents may not leave the app's origin (navigation.ts), open windows, attach webviews,
 * follow redirects, or get permissions; the session loads nothing but our own URLs.
 */
function hardenWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    // will-navigate covers the main frame, will-frame-navigate every frame; both are asked, so a
    // change to one event's coverage in a later Electron cannot open a gap.
    contents.on('will-navigate', (navigation) => {
      if (!mayNavigate({ url: navigation.url, isMainFrame: true }, PAGES)) navigation.preventDefault()
    })
    contents.on('will-frame-navigate', (navigation) => {
      if (!mayNavigate({ url: navigation.url, isMainFrame: navigation.isMainFrame }, PAGES)) navigation.preventDefault()
    })
    contents.on('will-redirect', (navigation) => navigation.preventDefault())
    contents.on('will-attach-webview', (attach) => attach.preventDefault())
    // The renderer has no external links, so nothing is handed to shell.openExternal either.
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  })
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !mayRequest(details.url, PAGES) })
  })
  // A second wall for file: URLs, should a request reach the network stack without passing the
  // filter above: the file scheme itself answers 403 to everything (protocol.handle intercepts
  // built-in schemes). The app reads its own files through app: and project images through sam-image:.
  protocol.handle('file', refuseFileRequest)
}

function createWindow(): BrowserWindow {
  const saved = loadWindowState(app.getPath('userData'))
  const bounds = restoreBounds(
    saved,
    screen.getAllDisplays().map((display) => display.workArea),
  )
  const window = new BrowserWindow({
    ...bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'SAM Annotator',
    backgroundColor: '#1e1f22',
    show: false,
    webPreferences: {
      preload: PRELOAD_PATH,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  })
  if (saved?.maximized) window.maximize()
  window.once('ready-to-show', () => window.show())
  window.on('close', () => {
    saveWindowState(app.getPath('userData'), { bounds: window.getNormalBounds(), maximized: window.isMaximized() })
  })
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null
  })
  // The Content-Security-Policy is a <meta> tag in src-renderer/index.html, one policy for the
  // app: page, the dev server and the e2e tests' loopback server alike.
  if (DEV_RENDERER_URL !== undefined) void window.loadURL(DEV_RENDERER_URL)
  else void window.loadURL(APP_INDEX_URL)
  return window
}

const emit: EventSink = (name, payload) => {
  const contents = mainWindow?.webContents
  if (contents !== undefined && !contents.isDestroyed()) contents.send(eventChannel(name), payload)
}

const dialogs: Dialogs = {
  async chooseFolder({ title }) {
    const options = { title, properties: ['openDirectory' as const, 'createDirectory' as const] }
    const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options)
    return result.canceled ? null : (result.filePaths[0] ?? null)
  },
  async chooseSaveFile({ title, defaultPath, filters }) {
    const options = { title, defaultPath, filters }
    const result = mainWindow ? await dialog.showSaveDialog(mainWindow, options) : await dialog.showSaveDialog(options)
    return result.canceled ? null : (result.filePath ?? null)
  },
  async chooseOpenFile({ title, filters }) {
    const options = { title, filters, properties: ['openFile' as const] }
    const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options)
    return result.canceled ? null : (result.filePaths[0] ?? null)
  },
}

function reportError(what: string, err: unknown): void {
  console.error(`[main] ${what}:`, err)
  dialog.showErrorBox(what, err instanceof Error ? err.message : String(err))
}

function openFolder(services: AppServices, folder: string): void {
  services.projects.openFolder(folder).catch((err: unknown) => reportError(`Cannot open ${folder}`, err))
}

function installMenu(services: AppServices): void {
  const run = (command: CommandId, byKey: boolean): void => {
    const entry = KEYMAP.find((item) => item.id === command)
    if (entry?.handler === 'renderer') return emit('menu', { command, byKey })
    if (command === 'project.open')
      void services.projects.openWithDialog().catch((err: unknown) => reportError('Cannot open the folder', err))
  }
  const withClicks = (items: MenuItemTemplate[]): MenuItemConstructorOptions[] =>
    items.map(({ submenu, id, ...item }) => ({
      ...item,
      ...(id !== undefined
        ? { id, click: (_item, _window, event) => run(id, event.triggeredByAccelerator === true) }
        : {}),
      ...(submenu !== undefined ? { submenu: withClicks(submenu) } : {}),
    }))
  const template = buildMenuTemplate({ platform: process.platform, devTools: !app.isPackaged })
  Menu.setApplicationMenu(Menu.buildFromTemplate(withClicks(template)))
}

function focusWindow(): void {
  if (mainWindow === null) return
  if (mainWindow.isMinimized()) mainWindow.restore()
  mainWindow.focus()
}

// Sandbox every renderer, including any created later by mistake.
app.enableSandbox()
// Must happen before 'ready': privileged schemes are fixed at start-up.
protocol.registerSchemesAsPrivileged([
  // The page's own origin. standard: relative URLs, an origin, web storage; secure: a secure
  // context like https; supportFetchAPI and corsEnabled: Vite's bundle is module scripts with
  // `crossorigin`, loaded in CORS mode (nothing else in this session can read app: cross-origin,
  // since mayRequest cancels every foreign URL); codeCache: V8 caches the compiled bundle.
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
  },
  {
    scheme: IMAGE_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true },
  },
])

if (!app.requestSingleInstanceLock()) {
  // A second launch hands its folder to the first instance (second-instance below) and quits.
  app.quit()
} else {
  let sqliteProblem: string | null = null
  try {
    useElectronSqlite(
      electronSqliteBinding({
        packaged: app.isPackaged,
        resourcesPath: process.resourcesPath,
        appRoot: app.getAppPath(),
        platform: process.platform,
        arch: process.arch,
        override: process.env['SAM_ANNOTATOR_SQLITE_BINDING'],
      }),
    )
  } catch (err) {
    sqliteProblem = err instanceof Error ? err.message : String(err)
  }

  // The model runs in worker threads: an encode takes seconds with SAM 2.1 weights.
  const engine = Engine.open({ modelDir: defaultModelDir(modelsRoot()).dir, runners: workerRunners })
  const services = new AppServices({ engine, userDataDir: app.getPath('userData'), dialogs, emit })

  app.on('second-instance', (_event, argv, workingDirectory) => {
    focusWindow()
    const folder = folderArgument(argv, { packaged: app.isPackaged, cwd: workingDirectory })
    if (folder !== null) openFolder(services, folder)
  })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  let disposed = false
  app.on('will-quit', (event) => {
    if (disposed) return
    // Let the project commit and the embedding cache flush before the process ends.
    event.preventDefault()
    disposed = true
    void services.dispose().finally(() => app.quit())
  })

  void app.whenReady().then(() => {
    if (sqliteProblem !== null) {
      dialog.showErrorBox('SAM Annotator cannot store projects', sqliteProblem)
      app.exit(1)
      return
    }
    hardenWebContents()
    protocol.handle(APP_SCHEME, (request) =>
      handleAppRequest({ url: request.url, method: request.method }, RENDERER_DIR),
    )
    const cache = new PreviewCache()
    protocol.handle(IMAGE_SCHEME, (request) =>
      handleImageRequest({ url: request.url, method: request.method }, services.images, cache),
    )
    registerIpc({
      registrar: ipcMain,
      handlers: createHandlers(services),
      isTrustedSender: trustedSender({
        webContentsId: () => mainWindow?.webContents.id ?? null,
        isAppUrl: (url) => isAppPageUrl(url, { indexHtmlUrl: APP_INDEX_URL, devServerUrl: DEV_RENDERER_URL }),
      }),
    })
    installMenu(services)
    mainWindow = createWindow()
    const folder = folderArgument(process.argv, { packaged: app.isPackaged, cwd: process.cwd() })
    if (folder !== null) openFolder(services, folder)
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
    })
  })
}
