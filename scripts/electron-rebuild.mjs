// Puts better-sqlite3 on the ABI of the runtime that will load it (toolchain.md section 6).
// No arguments (npm's postinstall): does nothing, so node_modules stays on Node's ABI, which
// the tests and the CLI need, and `npm install` works offline.
// --electron (npm run rebuild:electron, npm run dist): rebuilds better-sqlite3 for Electron's
// ABI with @electron/rebuild. Needs electronjs.org for the headers. Afterwards Node can no
// longer load it: `npm run rebuild:node` (about 70 s) before running the tests again (P18).
// onnxruntime-node and sharp are N-API and load in both runtimes unchanged.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { lookup } from 'node:dns/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HEADERS_HOST = 'www.electronjs.org'
const args = process.argv.slice(2)

if (args.length === 0) {
  console.log('[electron-rebuild] skipped: node_modules stays on the Node ABI for tests and the CLI')
  process.exit(0)
}
if (args.length !== 1 || args[0] !== '--electron') {
  console.error(`[electron-rebuild] unknown arguments: ${args.join(' ')} (the only option is --electron)`)
  process.exit(2)
}

// Fail before touching anything: a forced rebuild deletes the Node build of better-sqlite3
// before it fetches headers, so an offline attempt would leave no binary at all (P17).
try {
  await lookup(HEADERS_HOST)
} catch {
  console.error(`[electron-rebuild] ${HEADERS_HOST} is unreachable; Electron's headers are needed, nothing was changed`)
  process.exit(1)
}

// npm exports the user's `nodedir` (here /usr) to child processes; node-gyp would then build
// against Node's headers while reporting Electron's, and Electron refuses the result (P16).
delete process.env.npm_config_nodedir

const require = createRequire(import.meta.url)
const projectDir = fileURLToPath(new URL('..', import.meta.url))
const electronVersion = require('electron/package.json').version
const binary = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node')

// Keep the working binary so that a failure half-way (network drops after the DNS check)
// can put it back instead of leaving better-sqlite3 without one.
const backup = existsSync(binary) ? join(mkdtempSync(join(tmpdir(), 'sqlite-node-')), 'better_sqlite3.node') : null
if (backup !== null) copyFileSync(binary, backup)

const { rebuild } = await import('@electron/rebuild')
try {
  await rebuild({ buildPath: projectDir, electronVersion, force: true, onlyModules: ['better-sqlite3'] })
} catch (err) {
  if (backup !== null) {
    mkdirSync(dirname(binary), { recursive: true })
    copyFileSync(backup, binary)
  }
  const restored = backup !== null ? '; the previous build was put back' : ''
  console.error(`[electron-rebuild] rebuilding better-sqlite3 for Electron ${electronVersion} failed: ${err instanceof Error ? err.message : err}${restored}`)
  process.exit(1)
}
console.log(
  `[electron-rebuild] better-sqlite3 now targets Electron ${electronVersion}; ` +
    'run `npm run rebuild:node` before the tests, which run under Node',
)
