// The `model` domain of the IPC contract: channel names and result types, declared once and
// read by main (handler), preload (facade) and renderer (types only). Runtime-neutral on
// purpose: no Node, DOM or Electron imports, so all three tsconfigs can include it.

/** Which segmentation model the app is using, as shown to the user. */
export interface ModelInfo {
  /** Stable id, from the model's config.json (falls back to the folder name). */
  id: string
  /** Human-readable name for the UI. */
  name: string
  /** True when the built-in demo model (a colour region grower) stands in for SAM 2.1. */
  demo: boolean
  /** Absolute path of the model folder. */
  dir: string
}

/** Codes a `model` call can fail with; the UI may branch on them. */
export type ModelErrorCode = 'model-missing' | 'model-config' | 'internal'

/**
 * How every result crosses IPC. An envelope rather than a thrown error because Electron's
 * contextBridge keeps only an error's message, so a thrown `code` would never reach the
 * renderer. (Moves to a shared contract file once a second domain needs it.)
 */
export type IpcResult<T, Code extends string> =
  | { ok: true; value: T }
  | { ok: false; error: { code: Code; message: string } }

export const MODEL_CHANNELS = {
  info: 'annot:model.info',
} as const

/** What the preload exposes as `window.api.model`. */
export interface ModelApi {
  info(): Promise<IpcResult<ModelInfo, ModelErrorCode>>
}
