// `npm start`: build the app, make sure better-sqlite3 exists for Electron's ABI (built once
// into .cache/electron-native/, never into node_modules), then launch it with
// `electron-vite preview`. Electron 45's npm package has no binary: it downloads one from
// GitHub on first launch. Where that, or the native build, cannot happen (offline machines),
// say so in plain words instead of a stack trace.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureElectronNative, NativeBuildError } from './electron-native.mjs'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))
const electronVite = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js')

function run(args) {
  const result = spawnSync(process.execPath, [electronVite, ...args], { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

/** The Electron executable, found the way electron-vite finds it, or null when absent. */
function electronBinary() {
  if (process.env.ELECTRON_EXEC_PATH)
    return existsSync(process.env.ELECTRON_EXEC_PATH) ? process.env.ELECTRON_EXEC_PATH : null
  const electronDir = dirname(require.resolve('electron/package.json'))
  const pathFile = join(electronDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const binary = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(binary) ? binary : null
}

run(['build'])

const binary = electronBinary()
if (binary === null) {
  console.error(
    'npm start: the Electron binary is missing: Electron downloads it from GitHub on first launch, which needs ' +
      'network access; run `npx install-electron` where github.com is reachable (or set ELECTRON_EXEC_PATH to an ' +
      'Electron 45 executable), then npm start again.',
  )
  process.exit(1)
}

try {
  await ensureElectronNative({ root })
} catch (err) {
  console.error(`npm start: ${err instanceof NativeBuildError ? err.message : (err?.stack ?? err)}`)
  process.exit(1)
}

// Hand electron-vite the binary we checked, so it never tries a download of its own.
process.env.ELECTRON_EXEC_PATH = binary
run(['preview', '--skipBuild'])
