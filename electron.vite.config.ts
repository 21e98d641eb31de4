// Build config for the three Electron roots. The folders are not electron-vite's defaults
// (src/main, src/preload, src/renderer), so every section names its entry explicitly;
// without that the build stops with "An entry point is required" (toolchain.md P10).
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

const fromRoot = (path: string): string => resolve(import.meta.dirname, path)

export default defineConfig({
  // Main is ESM (package.json "type": "module"); native packages stay external because they
  // are listed in `dependencies`, everything else is bundled. The geometry and inference workers
  // are entries of their own: main starts them as files beside index.js.
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: fromRoot('src-main/index.ts'),
          'geometry-worker': fromRoot('src-main/services/geometry/geometry-worker.ts'),
          'inference-worker': fromRoot('src-main/services/inference/inference-worker.ts'),
        },
      },
    },
  },
  // A sandboxed preload must be CommonJS; `.cjs` keeps Node from reading it as ESM under
  // "type": "module". Main loads it as ../preload/index.cjs. A sandboxed preload can
  // require only 'electron' and a few builtins, so its dependencies (zod, via the contract)
  // are bundled into it instead of externalized.
  preload: {
    build: {
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: fromRoot('src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: fromRoot('src-renderer'),
    // The Vite root is src-renderer, where the plugin would not find svelte.config.js.
    plugins: [svelte({ configFile: fromRoot('svelte.config.js') })],
    build: { rolldownOptions: { input: { index: fromRoot('src-renderer/index.html') } } },
  },
})
