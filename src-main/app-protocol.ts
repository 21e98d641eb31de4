// The app: protocol: how the window gets its own page. The built renderer is served as
// `app://renderer/index.html` and its assets, never over file://: a page on file:// shares the
// file: scheme with every file on the disk (and Chromium lets such pages fetch other file: URLs),
// while app://renderer is an origin of its own that can reach nothing but what this function
// serves. It serves only the files of the built renderer folder (out/renderer): a URL names a
// file there by plain path segments; `..`, encoded bytes, backslashes, dotfiles, other hosts,
// credentials, ports and file types the build does not produce are refused before the disk is
// touched, and the resolved path is checked to lie inside the folder all the same.
// A pure request → Response function; index.ts hands it to protocol.handle.
import { lstat, readFile } from 'node:fs/promises'
import { extname, isAbsolute, join, relative } from 'node:path'

export const APP_SCHEME = 'app'
export const APP_HOST = 'renderer'
/** As Chromium writes the origin of a standard scheme (Node's URL says 'null' for it). */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`

export interface AppRequest {
  url: string
  method: string
}

/** What a Vite build of the renderer can emit; anything else in the folder is not served. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
}

/** One path segment of a build file: no leading dot (so no `.`, `..` or dotfile), no separators. */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

/**
 * The file an app: URL names, relative to the renderer folder with '/' separators, or null when
 * the URL is not one this protocol answers. `app://renderer/` is index.html. The query is
 * ignored (it cannot change which file is read); the fragment never reaches a protocol handler.
 */
export function appFileOf(url: string): string | null {
  // Refuse traversal and encoding tricks before URL parsing normalises them away
  // (`app://renderer/assets/../../x` would otherwise quietly lose its `..`).
  if (url.length > 1000 || url.includes('..') || url.includes('%') || url.includes('\\')) return null
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null
  if (parsed.username !== '' || parsed.password !== '') return null
  // Chromium gives a standard scheme's bare origin the path '/', WHATWG URL (non-special) ''.
  const path = parsed.pathname === '/' || parsed.pathname === '' ? '/index.html' : parsed.pathname
  const segments = path.slice(1).split('/')
  if (!path.startsWith('/') || segments.some((segment) => !SEGMENT.test(segment))) return null
  if (CONTENT_TYPES[extname(path).toLowerCase()] === undefined) return null
  return segments.join('/')
}

function plain(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
  })
}

/**
 * Answers one app: request from the files under `rendererDir`: 200 with the file and its type,
 * 404 for a URL this protocol does not serve or a file the build does not have, 405 for methods
 * other than GET and HEAD.
 */
export async function handleAppRequest(request: AppRequest, rendererDir: string): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, `${request.method} is not allowed`)
  const name = appFileOf(request.url)
  if (name === null) return plain(404, 'not a file of this app')
  const file = join(rendererDir, ...name.split('/'))
  const inside = relative(rendererDir, file)
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return plain(404, 'not a file of this app')
  let bytes: Buffer
  try {
    // lstat: a link (which a build never makes) is not followed out of the folder.
    if (!(await lstat(file)).isFile()) return plain(404, `no ${name} in this app`)
    bytes = await readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return plain(404, `no ${name} in this app`)
    throw err
  }
  const head = request.method === 'HEAD'
  // A Blob is a body under both Node's and the DOM's typings (the e2e bridge type-checks this file with DOM).
  const body = head ? null : new Blob([new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)])
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': CONTENT_TYPES[extname(name).toLowerCase()] as string,
      'Content-Length': String(bytes.length),
      'X-Content-Type-Options': 'nosniff',
      // A rebuilt renderer (npm start after a change) must not be shadowed by a cached copy.
      'Cache-Control': 'no-cache',
    },
  })
}

/** Every file: request of a web contents is refused: the app's pages and images have schemes of their own. */
export function refuseFileRequest(): Response {
  return plain(403, 'file: URLs are not available to this app')
}
