// Builds better-sqlite3 for Electron's ABI into .cache/electron-native/ (electron-native.mjs),
// never into node_modules, so the Node build that the tests and the CLI load is never replaced.
// No arguments (npm's postinstall): does nothing, so `npm install` works offline.
// --electron (npm run dist, npm run rebuild:electron): builds it when missing or stale (needs
// electronjs.org for the headers; offline it exits 1 with the reason and changes nothing).
// --electron --force: builds it even when the stamp says it is current.
// onnxruntime-node and sharp are N-API and load in both runtimes unchanged.
import { fileURLToPath } from 'node:url'
import { ensureElectronNative, NativeBuildError } from './electron-native.mjs'

const args = process.argv.slice(2)
if (args.length === 0) {
  console.log(
    '[electron-rebuild] skipped: node_modules stays on the Node ABI; the Electron build is made by npm start / npm run dist',
  )
  process.exit(0)
}
if (args[0] !== '--electron' || args.slice(1).some((arg) => arg !== '--force')) {
  console.error(`[electron-rebuild] unknown arguments: ${args.join(' ')} (usage: --electron [--force])`)
  process.exit(2)
}

const root = fileURLToPath(new URL('..', import.meta.url))
try {
  const binary = await ensureElectronNative({ root, force: args.includes('--force') })
  console.log(`[electron-rebuild] better-sqlite3 for Electron: ${binary}`)
} catch (err) {
  console.error(`[electron-rebuild] ${err instanceof NativeBuildError ? err.message : (err?.stack ?? err)}`)
  process.exit(1)
}
