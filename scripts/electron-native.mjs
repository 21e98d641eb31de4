// better-sqlite3 for Electron, kept apart from node_modules. The copy in node_modules stays on
// Node's ABI (tests, CLI); the Electron build lives in .cache/electron-native/<platform>-<arch>/
// with a stamp saying which Electron and better-sqlite3 versions it was made for. Electron's
// main process loads it in place of the Node build (src-main/native-sqlite.ts), and
// electron-builder ships it as resources/native/better_sqlite3.node (electron-builder.yml).
// Building needs Electron's headers from electronjs.org; offline it stops before touching
// anything and says so. Used by start-app.mjs (npm start) and electron-rebuild.mjs (npm run dist).
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { lookup as dnsLookup } from 'node:dns/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'

export const CACHE_DIR = join('.cache', 'electron-native')
export const BINARY_NAME = 'better_sqlite3.node'
export const STAMP_NAME = 'stamp.json'
export const HEADERS_HOST = 'www.electronjs.org'

/** Folder of the Electron build for one platform and CPU. */
export function nativeTargetDir(root, platform = process.platform, arch = process.arch) {
  return join(root, CACHE_DIR, `${platform}-${arch}`)
}

/** Versions that decide whether a build can be reused: Electron's (its ABI) and better-sqlite3's. */
export function installedVersions(root) {
  const require = createRequire(join(root, 'package.json'))
  return {
    electronVersion: require('electron/package.json').version,
    sqliteVersion: require('better-sqlite3/package.json').version,
  }
}

/**
 * Whether the Electron build in `dir` fits the wanted versions: 'ready', or 'missing'/'stale'
 * with the reason in words.
 */
export function nativeStatus(dir, wanted) {
  const binary = join(dir, BINARY_NAME)
  if (!existsSync(binary)) return { state: 'missing', binary, reason: `${binary} does not exist yet` }
  let stamp
  try {
    stamp = JSON.parse(readFileSync(join(dir, STAMP_NAME), 'utf8'))
  } catch {
    return { state: 'stale', binary, reason: `${join(dir, STAMP_NAME)} is missing or unreadable` }
  }
  if (stamp.electronVersion !== wanted.electronVersion) {
    return {
      state: 'stale',
      binary,
      reason: `built for Electron ${stamp.electronVersion}, the project now uses ${wanted.electronVersion}`,
    }
  }
  if (stamp.sqliteVersion !== wanted.sqliteVersion) {
    return {
      state: 'stale',
      binary,
      reason: `built from better-sqlite3 ${stamp.sqliteVersion}, the project now has ${wanted.sqliteVersion}`,
    }
  }
  return { state: 'ready', binary, reason: `built for Electron ${stamp.electronVersion}` }
}

export class NativeBuildError extends Error {
  name = 'NativeBuildError'
}

/** The message for a machine that cannot reach electronjs.org: what is missing, why, and what to do. */
export function offlineMessage(wanted, binary) {
  return (
    `better-sqlite3 must be built for Electron ${wanted.electronVersion} (its ABI differs from Node's), ` +
    `which needs Electron's headers from ${HEADERS_HOST}, and ${HEADERS_HOST} cannot be reached from this machine. ` +
    `Nothing was changed: node_modules keeps the Node build that the tests and the CLI use. ` +
    `Run the same command again with network access; it writes ${binary} once and reuses it afterwards.`
  )
}

/**
 * Builds better-sqlite3 for Electron into `.cache/electron-native/<platform>-<arch>/`, from a
 * copy of node_modules/better-sqlite3 (so node_modules is never touched). `deps` replaces the
 * network lookup and @electron/rebuild in tests.
 */
export async function buildElectronNative({
  root,
  wanted,
  platform = process.platform,
  arch = process.arch,
  log = console.log,
  deps = {},
}) {
  const lookup = deps.lookup ?? dnsLookup
  const dir = nativeTargetDir(root, platform, arch)
  const binary = join(dir, BINARY_NAME)
  try {
    await lookup(HEADERS_HOST)
  } catch {
    throw new NativeBuildError(offlineMessage(wanted, binary))
  }

  const work = join(root, CACHE_DIR, 'work')
  const require = createRequire(join(root, 'package.json'))
  const source = dirname(require.resolve('better-sqlite3/package.json'))
  const copy = join(work, 'node_modules', 'better-sqlite3')
  rmSync(work, { recursive: true, force: true })
  // The sources only: the Node build (build/) must not be mistaken for the result.
  cpSync(source, copy, {
    recursive: true,
    filter: (path) => {
      const rel = relative(source, path)
      return rel !== 'build' && !rel.startsWith(`build${sep}`)
    },
  })
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({
      name: 'electron-native-work',
      private: true,
      dependencies: { 'better-sqlite3': wanted.sqliteVersion },
    }),
  )

  // npm exports the user's `nodedir` (here /usr) to child processes; node-gyp would then build
  // against Node's headers while reporting Electron's, and Electron refuses the result.
  const savedNodedir = process.env.npm_config_nodedir
  delete process.env.npm_config_nodedir
  try {
    const rebuild = deps.rebuild ?? (await import('@electron/rebuild')).rebuild
    log(
      `[electron-native] building better-sqlite3 ${wanted.sqliteVersion} for Electron ${wanted.electronVersion} (${platform}-${arch})`,
    )
    await rebuild({
      buildPath: work,
      electronVersion: wanted.electronVersion,
      arch,
      force: true,
      onlyModules: ['better-sqlite3'],
    })
  } catch (err) {
    throw new NativeBuildError(
      `building better-sqlite3 for Electron ${wanted.electronVersion} failed: ${err instanceof Error ? err.message : String(err)}; node_modules was not touched`,
    )
  } finally {
    if (savedNodedir !== undefined) process.env.npm_config_nodedir = savedNodedir
  }

  const built = join(copy, 'build', 'Release', BINARY_NAME)
  if (!existsSync(built)) throw new NativeBuildError(`the rebuild reported success but produced no ${built}`)
  const gypi = join(copy, 'build', 'config.gypi')
  if (existsSync(gypi)) {
    const nodedir = /"nodedir":\s*"([^"]*)"/.exec(readFileSync(gypi, 'utf8'))?.[1]
    if (nodedir !== undefined && !nodedir.includes(wanted.electronVersion)) {
      throw new NativeBuildError(
        `the rebuild used headers from ${nodedir}, not Electron ${wanted.electronVersion}'s; refusing the result (toolchain.md P16)`,
      )
    }
  }
  mkdirSync(dir, { recursive: true })
  copyFileSync(built, `${binary}.tmp`)
  renameSync(`${binary}.tmp`, binary)
  writeFileSync(
    join(dir, STAMP_NAME),
    `${JSON.stringify({ ...wanted, platform, arch, builtAt: new Date().toISOString() }, null, 2)}\n`,
  )
  rmSync(work, { recursive: true, force: true })
  log(`[electron-native] wrote ${binary}`)
  return binary
}

/** Builds when missing or stale; returns the binary. */
export async function ensureElectronNative({
  root,
  platform = process.platform,
  arch = process.arch,
  force = false,
  log = console.log,
  deps = {},
}) {
  const wanted = installedVersions(root)
  const dir = nativeTargetDir(root, platform, arch)
  const status = nativeStatus(dir, wanted)
  if (status.state === 'ready' && !force) return status.binary
  if (status.state !== 'ready') log(`[electron-native] ${status.reason}: building it`)
  return buildElectronNative({ root, wanted, platform, arch, log, deps })
}
