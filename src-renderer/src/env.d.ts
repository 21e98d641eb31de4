// Ambient types for the renderer: Svelte components, Vite's import.meta, and `window.api`,
// the preload's facade typed from the contract (types only: the renderer never imports
// Electron or Node).
/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { BridgeApi } from '../../src-preload/contract/index.ts'

declare global {
  interface Window {
    /**
     * Set by the preload (or, in the end-to-end tests, by the loopback bridge). Missing only
     * when the page runs in a plain browser; connectApi() checks that once.
     */
    readonly api: BridgeApi | undefined
  }
}

export {}
