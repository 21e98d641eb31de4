// The bridge between the sandboxed renderer and main: builds `window.api` from the contract
// and exposes it through contextBridge. The renderer never gets ipcRenderer itself, only
// one function per contract channel.
import { contextBridge, ipcRenderer } from 'electron'
import {
  MODEL_CHANNELS,
  type IpcResult,
  type ModelApi,
  type ModelErrorCode,
  type ModelInfo,
} from './contract/model.ts'

const model: ModelApi = {
  // Main is the trusted side and always answers with the envelope declared in the contract;
  // invoke() is untyped, so the cast records that promise rather than checking it.
  info: () => ipcRenderer.invoke(MODEL_CHANNELS.info) as Promise<IpcResult<ModelInfo, ModelErrorCode>>,
}

contextBridge.exposeInMainWorld('api', { model })
