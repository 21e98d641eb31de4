// The preload: the only code with ipcRenderer, exposing `window.api` (built from the contract
// by bridge.ts) through contextBridge. The renderer never gets ipcRenderer itself.
// Sandboxed preloads can require only 'electron' and a few builtins, so electron-vite bundles
// everything else into this file (zod included; preload.build.externalizeDeps is false).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { buildBridge } from './bridge.ts'

const api = buildBridge(
  (channel, arg) => ipcRenderer.invoke(channel, arg),
  (channel, listener) => {
    // The event object (with its sender) stays here; the page gets the payload only.
    const handler = (_event: IpcRendererEvent, payload: unknown): void => listener(payload)
    ipcRenderer.on(channel, handler)
    return () => {
      ipcRenderer.removeListener(channel, handler)
    }
  },
)

contextBridge.exposeInMainWorld('api', api)
