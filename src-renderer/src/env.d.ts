// Ambient types for the renderer: Svelte components, Vite's import.meta, and `window.api`,
// the preload's facade typed from the contract (types only: the renderer never imports
// Electron or Node).
/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { ModelApi } from '../../src-preload/contract/model.ts'

declare global {
  interface Window {
    /**
     * Set by the preload. Typed as always present so the app's code stays plain; it is
     * missing only when the page runs outside Electron with no bridge (plain browser dev
     * server), which App.svelte checks once at start and reports.
     */
    readonly api: {
      readonly model: ModelApi
    }
  }
}

export {}
