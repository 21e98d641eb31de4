// The folder named on the command line (`sam-annotator ~/photos`), for the first launch and
// for a second launch handed over by the single-instance lock. Electron's argv starts with the
// executable, plus the app path when run unpackaged (`electron .`), and Chromium may add its
// own switches; the folder is the last remaining argument that is an existing directory.
import { statSync } from 'node:fs'
import { resolve } from 'node:path'

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

export function folderArgument(
  argv: readonly string[],
  options: { packaged: boolean; cwd: string; isDirectory?: (path: string) => boolean },
): string | null {
  const check = options.isDirectory ?? isDirectory
  const rest = argv.slice(options.packaged ? 1 : 2).filter((arg) => arg !== '' && !arg.startsWith('-'))
  for (let i = rest.length - 1; i >= 0; i--) {
    const candidate = resolve(options.cwd, rest[i] as string)
    if (check(candidate)) return candidate
  }
  return null
}
