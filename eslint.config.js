// ESLint over the whole repository, and the import boundaries between the processes: the core is
// plain Node, the renderer is DOM-only, the IPC contract is runtime-neutral. The rules are not
// type-checked, so `npm run lint` stays quick; tsc and svelte-check do the type work.
import { builtinModules } from 'node:module'
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import globals from 'globals'
import svelte from 'eslint-plugin-svelte'
import tseslint from 'typescript-eslint'
import svelteConfig from './svelte.config.js'

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** An import of any of these packages, or of a subpath of one (`svelte/store`, `electron/main`). */
const packages = (names) => `^(${names.map(escape).join('|')})(/.*)?$`

/** An import whose path goes through a folder of that name: `src-main/x`, `../../src-main/x.ts`. */
const folder = (name) => `(^|/)${escape(name)}(/.*)?$`

// Regex patterns, not gitignore globs: a glob cannot let `src-preload/contract` through once
// `**/src-preload/**` refuses its parent folder.
const refuse = (regex, message) => ({ regex, message, caseSensitive: true })

const ELECTRON = (where) => refuse(packages(['electron']), `${where}: no electron import`)
const DOM_LIBS = (where) =>
  refuse(packages(['svelte', 'konva', 'svelte-konva']), `${where}: no svelte, konva or svelte-konva (DOM code)`)
const NODE_BUILTINS = (where) => [
  refuse('^node:', `${where}: no Node builtin (node:*)`),
  refuse(`^(${builtinModules.map(escape).join('|')})$`, `${where}: no Node builtin (fs, path, child_process, …)`),
]
const NATIVE = (where) =>
  refuse(packages(['better-sqlite3', 'onnxruntime-node', 'sharp']), `${where}: no native Node package`)
const PRELOAD_OUTSIDE_CONTRACT = (where) =>
  refuse(
    '(^|/)src-preload(/(?!contract(/|$)).*)?$',
    `${where}: only src-preload/contract from the preload (index.ts and bridge.ts are the preload's own code)`,
  )
const FOLDER = (name, where) => refuse(folder(name), `${where}: no import from ${name}`)

const boundary = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
})

const CORE = 'src-main/core is plain Node'
const MAIN = 'src-main is the Node main process'
const RENDERER = 'src-renderer is DOM-only'
const CONTRACT = 'src-preload/contract is runtime-neutral'
/** Product code never reaches into the benchmarks, the tests' helpers or the dev scripts. */
const NOT_PRODUCT = (where) => ['bench', 'tests', 'scripts'].map((name) => FOLDER(name, where))
const contractRules = [
  ELECTRON(CONTRACT),
  ...NODE_BUILTINS(CONTRACT),
  NATIVE(CONTRACT),
  DOM_LIBS(CONTRACT),
  FOLDER('src-main', CONTRACT),
  FOLDER('src-renderer', CONTRACT),
  ...NOT_PRODUCT(CONTRACT),
]

export default defineConfig(
  { ignores: ['out/', 'dist/', 'models/', '.cache/', 'coverage/', 'test-artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // `declare const globalThis: {…}` types the page's globals in Node-side tests; it shadows nothing.
      'no-shadow-restricted-names': ['error', { reportGlobalThis: false }],
      // A leading underscore marks a binding kept on purpose (a destructured-away key, a type-level test).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { varsIgnorePattern: '^_', argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig },
    },
    rules: {
      // Plain Maps are deliberate: caches outside reactivity, or immutable values that a
      // `$state.raw` field replaces whole (a SvelteMap would track every read for nothing).
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },

  // Import boundaries. A later block's options replace an earlier one's for the same rule, so
  // each folder gets its whole list, and src-main's block leaves out core.
  boundary(
    ['src-main/**'],
    [DOM_LIBS(MAIN), FOLDER('src-renderer', MAIN), PRELOAD_OUTSIDE_CONTRACT(MAIN), ...NOT_PRODUCT(MAIN)],
    ['src-main/core/**'],
  ),
  boundary(
    ['src-main/core/**'],
    [
      ELECTRON(CORE),
      DOM_LIBS(CORE),
      FOLDER('src-renderer', CORE),
      PRELOAD_OUTSIDE_CONTRACT(CORE),
      ...NOT_PRODUCT(CORE),
    ],
  ),
  boundary(
    ['src-renderer/**'],
    [
      ELECTRON(RENDERER),
      ...NODE_BUILTINS(RENDERER),
      NATIVE(RENDERER),
      FOLDER('src-main', RENDERER),
      PRELOAD_OUTSIDE_CONTRACT(RENDERER),
      ...NOT_PRODUCT(RENDERER),
    ],
  ),
  boundary(['src-preload/contract/**'], contractRules),
  // The contract is one flat folder: from its files, `../` leaves it (to the preload's index.ts
  // and bridge.ts, which import electron).
  boundary(
    ['src-preload/contract/*'],
    [...contractRules, refuse('^\\.\\./', `${CONTRACT}: no import from outside it`)],
  ),
)
