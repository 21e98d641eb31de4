// The one place that picks and starts the Chromium the end-to-end tests and the renderer bench
// drive. In order:
//   1. CHROMIUM_PATH, when set: that binary and nothing else (a wrong path is an error, not a
//      silent fallback, so a run never measures another browser than the one asked for);
//   2. a system Chromium or Chrome found on PATH (Debian's `chromium`, Ubuntu's
//      `chromium-browser`, `google-chrome-stable`, `google-chrome`);
//   3. the Linux x64 build inside the npm package @sparticuz/chromium (a dev dependency), so a
//      fresh machine needs nothing beyond `npm install`, offline too. Never a browser downloaded
//      by a test tool.
//
// The npm build ships brotli-compressed: the binary, the NSS/NSPR/expat libraries it was linked
// against (al2023.tar.br), one font family (fonts.tar.br) and SwiftShader. It is unpacked once
// per package version into node_modules/.cache/sparticuz-chromium/<version>/, next to the
// package it comes from, so upgrading or reinstalling it starts afresh. The package's own
// executablePath() is not used: it unpacks into the shared /tmp without any guard against two
// processes at once (vitest starts test files in parallel), and its fontconfig file names Lambda
// folders only. Here each process unpacks into its own staging folder and renames it into place,
// an atomic step: a process that loses the race drops its copy and uses the winner's, and a
// folder under the final name is always complete.
import { spawn } from 'node:child_process'
import {
  accessSync,
  chmodSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { brotliDecompress as brotliDecompressCallback, createBrotliDecompress } from 'node:zlib'
import { chromium, type Browser } from 'playwright-core'

/** Flags for every browser: no sandbox (tests may run as root), no GPU, nothing fetched in the background. */
export const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
]
// The npm package recommends more flags for AWS Lambda; none is needed on a Linux machine, and
// some would change what the page may do (--disable-web-security, --allow-running-insecure-content)
// or how it runs (--single-process, --no-zygote, for Lambda's missing PR_SET_NO_NEW_PRIVS), so the
// tests would no longer see what the app's Chromium sees.

const brotliDecompress = promisify(brotliDecompressCallback)
const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']
const PACKAGE = '@sparticuz/chromium'
const HOW_TO_CHOOSE =
  'Set CHROMIUM_PATH to a Chromium or Chrome binary to use that one; without it a system Chromium on PATH ' +
  `(${SYSTEM_NAMES.join(', ')}) is used, else the build inside the npm package ${PACKAGE} (Linux x64).`

export interface FoundBrowser {
  executablePath: string
  /** What it is, e.g. "the system browser /usr/bin/chromium". */
  description: string
  /** Why this one was picked. */
  reason: string
  /** Environment for the browser process, when it needs more than ours. */
  env?: Record<string, string>
}

let found: Promise<FoundBrowser> | undefined

/** The browser to drive (unpacking the npm build on first use), or an error that says what was looked for. */
export function findBrowser(): Promise<FoundBrowser> {
  found ??= resolveBrowser()
  return found
}

/** Starts the browser headless; a failure names the browser, why it was chosen, and how to choose another. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await findBrowser()
  try {
    const { executablePath, env } = browser
    return await chromium.launch({ executablePath, headless: true, args: BROWSER_ARGS, env })
  } catch (e) {
    const why = `${browser.description} did not start (chosen because ${browser.reason}).`
    throw new Error(`${why} ${HOW_TO_CHOOSE}\n${(e as Error).message}`, { cause: e })
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

async function resolveBrowser(): Promise<FoundBrowser> {
  const wanted = process.env.CHROMIUM_PATH
  if (wanted !== undefined && wanted !== '') {
    if (!isExecutable(wanted)) {
      throw new Error(`CHROMIUM_PATH is ${wanted}, which is not an executable file. ${HOW_TO_CHOOSE}`)
    }
    return { executablePath: wanted, description: `the browser ${wanted}`, reason: 'CHROMIUM_PATH names it' }
  }
  const dirs = [...new Set([...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== ''), '/usr/bin'])]
  for (const name of SYSTEM_NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name)
      if (isExecutable(path)) {
        const reason = 'CHROMIUM_PATH is not set and it was found on PATH'
        return { executablePath: path, description: `the system browser ${path}`, reason }
      }
    }
  }
  const looked = SYSTEM_NAMES.join(', ')
  const none = `CHROMIUM_PATH is not set and no system Chromium was found (looked for ${looked} on PATH)`
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    const here = `${process.platform} ${process.arch}`
    const only = `the npm package ${PACKAGE} only carries a Linux x64 build (this is ${here})`
    throw new Error(`${none}, and ${only}. ${HOW_TO_CHOOSE}`)
  }
  let dir: string
  try {
    dir = await unpackNpmChromium()
  } catch (e) {
    const failure = `the build inside the npm package ${PACKAGE} could not be unpacked: ${(e as Error).message}`
    throw new Error(`${none}, and ${failure}. ${HOW_TO_CHOOSE}`, { cause: e })
  }
  const libraries = join(dir, 'al2023', 'lib')
  const inherited = process.env.LD_LIBRARY_PATH
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  // The libraries it was built against come first, as the package's own set-up puts them: a
  // machine without NSS still starts it, and one with an older NSS does not shadow them.
  env.LD_LIBRARY_PATH = inherited ? `${libraries}:${inherited}` : libraries
  env.FONTCONFIG_FILE = join(dir, 'fonts.conf')
  return {
    executablePath: join(dir, 'chromium'),
    description: `Chromium from the npm package ${PACKAGE} (${join(dir, 'chromium')})`,
    reason: none,
    env,
  }
}

/** The package folder: its `exports` hides package.json, so this walks up from its entry point. */
function packageDir(): string {
  let dir = dirname(createRequire(import.meta.url).resolve(PACKAGE))
  const isPackage = (at: string) =>
    existsSync(join(at, 'package.json')) && JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')).name === PACKAGE
  while (!isPackage(dir)) {
    const up = dirname(dir)
    if (up === dir) throw new Error(`${PACKAGE} is not installed (run npm install)`)
    dir = up
  }
  return dir
}

/** Unpacks the npm build once per package version; returns the folder holding `chromium`. */
async function unpackNpmChromium(): Promise<string> {
  const pkg = packageDir()
  const version: string = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version
  const bin = join(pkg, 'bin')
  // node_modules/.cache/, beside the package: removed with node_modules, writable wherever npm
  // install was, and on the same file system as the staging folders, so the rename is atomic.
  const cache = join(pkg, '..', '..', '.cache', 'sparticuz-chromium')
  const target = join(cache, version)
  if (isExecutable(join(target, 'chromium'))) return target
  mkdirSync(cache, { recursive: true })
  removeAbandonedStaging(cache, version)
  const staging = mkdtempSync(join(cache, `.${version}-`))
  try {
    const binary = createWriteStream(join(staging, 'chromium'), { mode: 0o755 })
    await pipeline(createReadStream(join(bin, 'chromium.br')), createBrotliDecompress(), binary)
    await untarBrotli(join(bin, 'al2023.tar.br'), join(staging, 'al2023'))
    await untarBrotli(join(bin, 'fonts.tar.br'), join(staging, 'fonts'))
    // SwiftShader's libraries sit beside the binary, where Chromium looks for them.
    await untarBrotli(join(bin, 'swiftshader.tar.br'), staging)
    writeFileSync(join(staging, 'fonts.conf'), fontsConf(target))
    // mkdtemp made it private; the browser may be run by others who can read the checkout.
    chmodSync(staging, 0o755)
    renameSync(staging, target)
  } catch (e) {
    rmSync(staging, { recursive: true, force: true })
    // Another process renamed its complete copy into place first: use that one.
    if (isExecutable(join(target, 'chromium'))) return target
    throw e
  }
  return target
}

/** Staging folders of this version left by a process killed while unpacking (it takes seconds, not an hour). */
function removeAbandonedStaging(cache: string, version: string): void {
  for (const name of readdirSync(cache)) {
    if (!name.startsWith(`.${version}-`)) continue
    const path = join(cache, name)
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true })
  }
}

/**
 * Decompresses a .tar.br into `dir` through the system tar (on every Linux), the files owned by
 * us. The archives are small (the binary is not one), so they are decompressed in memory first:
 * tar stops reading at the end-of-archive blocks, and its exit status alone says whether it worked.
 */
async function untarBrotli(archive: string, dir: string): Promise<void> {
  const tarball = await brotliDecompress(readFileSync(archive))
  mkdirSync(dir, { recursive: true })
  const tar = spawn('tar', ['-x', '--no-same-owner', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  // An early exit shows as EPIPE here; the exit status below reports it.
  tar.stdin.on('error', () => {})
  tar.stdin.end(tarball)
  await new Promise<void>((resolve, reject) => {
    tar.once('error', reject)
    tar.once('close', (code) => {
      if (code === 0) resolve()
      else reject(new Error(`tar exited with ${code} on ${archive}: ${stderr.trim()}`))
    })
  })
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * Fontconfig for the npm build. The package's own file lists Lambda folders only, so without
 * this the page draws no text at all. The bundled Open Sans always renders text; the system's
 * fonts, where there are any, follow for the glyphs it lacks (the UI's arrows and status marks).
 */
function fontsConf(target: string): string {
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>${xml(join(target, 'fonts', 'fonts'))}</dir>
  <cachedir>${xml(join(target, 'fontconfig-cache'))}</cachedir>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
</fontconfig>
`
}
