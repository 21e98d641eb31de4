// Electron main process: one hardened window, the model.info IPC handler, nothing else yet.
// Stays thin on purpose: real work lives in src-main/core/ (no Electron there), and main only
// wires windows and IPC channels to it. Never imports Svelte or Konva.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { app, BrowserWindow, ipcMain, session, type WebFrameMain } from 'electron'
import { isUserError } from './core/errors.ts'
import { getModelInfo } from './model-info.ts'
import {
  MODEL_CHANNELS,
  type IpcResult,
  type ModelErrorCode,
  type ModelInfo,
} from '../src-preload/contract/model.ts'

const PRELOAD_PATH = fileURLToPath(new URL('../preload/index.cjs', import.meta.url))
const INDEX_HTML_URL = new URL('../renderer/index.html', import.meta.url)
// electron-vite sets ELECTRON_RENDERER_URL for `electron-vite dev`; a packaged app must never
// follow it, or an environment variable could point the window at any page.
const DEV_RENDERER_URL = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined

/** Where models/ lives: the project root in development, beside app.asar when packaged. */
function modelsRoot(): string {
  const appPath = app.getAppPath()
  // models/demo is unpacked from the asar (electron-builder.yml) because onnxruntime reads
  // model files with native code, which cannot see inside an asar archive.
  return join(appPath.endsWith('.asar') ? `${appPath}.unpacked` : appPath, 'models')
}

/** Only our own renderer page may call the API; any other frame is refused. */
function isTrustedSender(frame: WebFrameMain | null): boolean {
  if (frame === null) return false
  let url: URL
  try {
    url = new URL(frame.url)
  } catch {
    return false
  }
  if (DEV_RENDERER_URL !== undefined) return url.origin === new URL(DEV_RENDERER_URL).origin
  return url.protocol === 'file:' && url.pathname === INDEX_HTML_URL.pathname
}

const MODEL_ERROR_CODES: ReadonlySet<string> = new Set<ModelErrorCode>(['model-missing', 'model-config'])

/** User errors keep their code and message; anything else is logged whole and shown short. */
function toErrorResult(err: unknown): { ok: false; error: { code: ModelErrorCode; message: string } } {
  if (isUserError(err) && MODEL_ERROR_CODES.has(err.code)) {
    return { ok: false, error: { code: err.code as ModelErrorCode, message: err.message } }
  }
  console.error('[main] internal error in', MODEL_CHANNELS.info, err)
  const detail = err instanceof Error ? err.message : String(err)
  return { ok: false, error: { code: 'internal', message: `Internal error while reading the model: ${detail}` } }
}

function registerIpc(): void {
  ipcMain.handle(MODEL_CHANNELS.info, (event): IpcResult<ModelInfo, ModelErrorCode> => {
    if (!isTrustedSender(event.senderFrame)) {
      throw new Error(`${MODEL_CHANNELS.info}: refused a call from an untrusted frame`)
    }
    // ENGINE WIRING: once src-main/core/segment/ has its engine, create it once after
    // app 'ready' (with modelsRoot()) and answer from the engine's active model here;
    // model-info.ts is a file-based stand-in and goes away then.
    try {
      return { ok: true, value: getModelInfo(modelsRoot()) }
    } catch (err) {
      return toErrorResult(err)
    }
  })
}

/** Web contents may not navigate, open windows, attach webviews, or get permissions. */
function hardenWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (navigation) => navigation.preventDefault())
    contents.on('will-attach-webview', (attach) => attach.preventDefault())
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  })
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 640,
    minHeight: 480,
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
  window.once('ready-to-show', () => window.show())
  // The Content-Security-Policy is a <meta> tag in src-renderer/index.html: it applies to
  // file:// loads too, where response headers never arrive.
  if (DEV_RENDERER_URL !== undefined) void window.loadURL(DEV_RENDERER_URL)
  else void window.loadURL(INDEX_HTML_URL.href)
  return window
}

// Sandbox every renderer, including any created later by mistake.
app.enableSandbox()

if (!app.requestSingleInstanceLock()) {
  // A second launch hands over to the first window instead of opening the project twice.
  app.quit()
} else {
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows()
    if (window === undefined) return
    if (window.isMinimized()) window.restore()
    window.focus()
  })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  void app.whenReady().then(() => {
    hardenWebContents()
    registerIpc()
    createWindow()
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow()
    })
  })
}
