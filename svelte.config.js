// Svelte compiler options shared by electron-vite, the plain renderer dev server and
// svelte-check. vitePreprocess lets components use <script lang="ts">.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'

export default {
  preprocess: vitePreprocess(),
}
