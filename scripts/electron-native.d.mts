// Types of electron-native.mjs, for the tests that import it.
export declare const CACHE_DIR: string
export declare const BINARY_NAME: string
export declare const STAMP_NAME: string
export declare const HEADERS_HOST: string

export interface WantedVersions {
  electronVersion: string
  sqliteVersion: string
}

export interface NativeStatus {
  state: 'ready' | 'missing' | 'stale'
  binary: string
  reason: string
}

export interface BuildDeps {
  lookup?: (host: string) => Promise<unknown>
  rebuild?: (options: {
    buildPath: string
    electronVersion: string
    arch: string
    force: boolean
    onlyModules: string[]
  }) => Promise<unknown>
}

export declare function nativeTargetDir(root: string, platform?: string, arch?: string): string
export declare function installedVersions(root: string): WantedVersions
export declare function nativeStatus(dir: string, wanted: WantedVersions): NativeStatus
export declare class NativeBuildError extends Error {}
export declare function offlineMessage(wanted: WantedVersions, binary: string): string
export declare function buildElectronNative(options: {
  root: string
  wanted: WantedVersions
  platform?: string
  arch?: string
  log?: (line: string) => void
  deps?: BuildDeps
}): Promise<string>
export declare function ensureElectronNative(options: {
  root: string
  platform?: string
  arch?: string
  force?: boolean
  log?: (line: string) => void
  deps?: BuildDeps
}): Promise<string>
