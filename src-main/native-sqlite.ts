// Makes better-sqlite3 load its Electron build inside Electron. node_modules keeps the Node
// build (tests and the CLI run under Node); the Electron build lives apart
// (.cache/electron-native/<platform>-<arch>/ in development, resources/native/ when packaged,
// made by scripts/electron-native.mjs). The store passes it to better-sqlite3's
// `nativeBinding` option; core itself stays Electron-agnostic and is told the path by main.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { useSqliteBinding } from './core/project/index.ts'

export const SQLITE_BINARY = 'better_sqlite3.node'

export interface BindingLocation {
  packaged: boolean
  /** process.resourcesPath */
  resourcesPath: string
  /** The project root in development (app.getAppPath()). */
  appRoot: string
  platform: string
  arch: string
  /** SAM_ANNOTATOR_SQLITE_BINDING; honoured in development only (a packaged app never loads code named by the environment). */
  override?: string
}

/** Where the Electron build of better-sqlite3 is for this run. */
export function electronSqliteBinding(location: BindingLocation): string {
  if (location.packaged) return join(location.resourcesPath, 'native', SQLITE_BINARY)
  if (location.override !== undefined && location.override !== '') return resolve(location.override)
  return join(location.appRoot, '.cache', 'electron-native', `${location.platform}-${location.arch}`, SQLITE_BINARY)
}

/**
 * Databases opened from now on load better-sqlite3 from `target` (better-sqlite3's own
 * `nativeBinding` option, set through the store). Throws, changing nothing, when `target` does
 * not exist, with the command that makes it.
 */
export function useElectronSqlite(target: string): void {
  if (!existsSync(target)) {
    throw new Error(
      `better-sqlite3 has no Electron build at ${target}. \`npm start\` makes it (once, with network access); ` +
        'for a packaged app, `npm run dist` ships it as resources/native/better_sqlite3.node.',
    )
  }
  useSqliteBinding(resolve(target))
}
