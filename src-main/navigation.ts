// Where the window may go. The app is one page: its main frame may only (re)load a page of its own
// origin (app://renderer, or in development the dev server's origin); sub-frames may not navigate
// at all (the app has none, and its CSP loads none). New windows are always denied (index.ts):
// the renderer has no external links to hand to the system browser. A page that navigated elsewhere
// would keep the preload's window.api, so this, the sender check of ipc.ts and the request filter
// of index.ts together keep the bridge in the hands of our own page.
// Electron-free: index.ts asks it on will-navigate and will-frame-navigate.
import { APP_ORIGIN } from './app-protocol.ts'
import { IMAGE_SCHEME } from '../src-preload/contract/images.ts'

export interface AppPages {
  /** The origin the packaged page is served from (app://renderer). */
  appOrigin: string
  /** In development only: the dev server the window loads instead. */
  devServerUrl?: string
}

export const APP_PAGES: AppPages = { appOrigin: APP_ORIGIN }

/**
 * Same scheme, host and port, no credentials. Compared field by field because WHATWG URL gives
 * a custom scheme's origin as 'null', while Chromium treats app: (registered standard) as an origin.
 */
export function isSameOrigin(url: string, origin: string): boolean {
  let parsed: URL
  let expected: URL
  try {
    parsed = new URL(url)
    expected = new URL(origin)
  } catch {
    return false
  }
  if (parsed.username !== '' || parsed.password !== '') return false
  return parsed.protocol === expected.protocol && parsed.host === expected.host && parsed.host !== ''
}

/** Whether a frame may navigate to `url` (will-navigate, will-frame-navigate). */
export function mayNavigate(target: { url: string; isMainFrame: boolean }, pages: AppPages): boolean {
  if (!target.isMainFrame) return false
  if (pages.devServerUrl !== undefined) return isSameOrigin(target.url, pages.devServerUrl)
  return isSameOrigin(target.url, pages.appOrigin)
}

/**
 * Whether the session may load `url` at all (webRequest.onBeforeRequest): our page and its
 * bundle, our images, the page's own data: and blob: URLs, DevTools, and in development the dev
 * server. Everything else is cancelled: no remote content, and no file: URL, whatever asks for it.
 */
export function mayRequest(url: string, pages: AppPages): boolean {
  if (pages.devServerUrl !== undefined && isSameOrigin(url, pages.devServerUrl)) return true
  if (isSameOrigin(url, pages.appOrigin)) return true
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  return scheme === IMAGE_SCHEME || scheme === 'data' || scheme === 'blob' || scheme === 'devtools'
}
