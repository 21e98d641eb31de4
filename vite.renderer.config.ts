// A plain browser dev server for the renderer: `vite --config vite.renderer.config.ts`.
// electron-vite's own dev/preview always launch Electron, even with --rendererOnly,
// and the Electron binary is not always there. Outside Electron there is no preload, so
// window.api is missing and the app says so instead of pretending.
import { resolve } from 'node:path'
import { defineConfig } from 'vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

const fromRoot = (path: string): string => resolve(import.meta.dirname, path)

export default defineConfig({
  root: fromRoot('src-renderer'),
  base: './',
  plugins: [svelte({ configFile: fromRoot('svelte.config.js') })],
  server: { host: '127.0.0.1', port: 5173 },
})
