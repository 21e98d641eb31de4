// The `model` domain: which segmentation model is active, as the UI must always show it.
import { method, NO_ARGUMENT, result } from './define.ts'

export interface ModelInfo {
  /** Stable id, from the model's config.json (falls back to the folder name). */
  id: string
  /** Human-readable name for the UI. */
  name: string
  /** True when the built-in demo model (a colour region grower) stands in for SAM 2.1. */
  demo: boolean
  /** Execution provider of the encoder ('cpu', 'cuda', 'dml', 'coreml'). */
  provider: string
  /** Why each provider was or was not used, in words (shown when the GPU is not used). */
  providerNotes: string[]
  /** Absolute path of the model folder. */
  dir: string
}

export const model = {
  /** Waits for the model to finish loading at start-up. */
  info: method(NO_ARGUMENT, result<ModelInfo>()),
}
