// What keeps the window to its own page: the app: protocol (the build's files and nothing else),
// the navigation and request policies main asks on every navigation and request, and the IPC
// sender check with the app: origin. Each is the function index.ts hands to Electron, driven with
// the URLs a compromised or confused page could produce; Electron itself cannot run here.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  APP_INDEX_URL,
  APP_ORIGIN,
  appFileOf,
  handleAppRequest,
  refuseFileRequest,
} from '../../../src-main/app-protocol.ts'
import { isAppPageUrl, trustedSender } from '../../../src-main/ipc.ts'
import { APP_PAGES, isSameOrigin, mayNavigate, mayRequest } from '../../../src-main/navigation.ts'
import { IMAGE_SCHEME, imageUrl } from '../../../src-preload/contract/images.ts'

describe('app: protocol', () => {
  let root: string
  let renderer: string
  const get = (url: string, method = 'GET') => handleAppRequest({ url, method }, renderer)
  const text = async (url: string): Promise<{ status: number; type: string | null; body: string }> => {
    const response = await get(url)
    return { status: response.status, type: response.headers.get('content-type'), body: await response.text() }
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sam-shell-app-'))
    renderer = join(root, 'renderer')
    mkdirSync(join(renderer, 'assets'), { recursive: true })
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>app</title>')
    writeFileSync(join(renderer, 'assets', 'index-Ab_1.js'), 'export const x = 1')
    writeFileSync(join(renderer, 'assets', 'index-Cd_2.css'), 'body{}')
    writeFileSync(join(renderer, 'assets', 'index-Cd_2.css.map'), '{}')
    writeFileSync(join(renderer, '.env'), 'SECRET=1')
    mkdirSync(join(renderer, 'folder.js'))
    // Beside the renderer folder: what a traversal would be after.
    writeFileSync(join(root, 'secret.js'), 'stolen')
    symlinkSync(join(root, 'secret.js'), join(renderer, 'assets', 'linked.js'))
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('serves index.html (also for the bare origin) and the assets with their types', async () => {
    for (const url of [APP_INDEX_URL, `${APP_ORIGIN}/`, APP_ORIGIN]) {
      expect(await text(url), url).toEqual({
        status: 200,
        type: 'text/html; charset=utf-8',
        body: '<!doctype html><title>app</title>',
      })
    }
    expect(await text(`${APP_ORIGIN}/assets/index-Ab_1.js`)).toEqual({
      status: 200,
      type: 'text/javascript; charset=utf-8',
      body: 'export const x = 1',
    })
    const css = await get(`${APP_ORIGIN}/assets/index-Cd_2.css?v=1`)
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(css.headers.get('x-content-type-options')).toBe('nosniff')
    expect(css.headers.get('content-length')).toBe('6')
    const head = await get(APP_INDEX_URL, 'HEAD')
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })

  it('refuses traversal, encodings, other hosts, dotfiles, links and files the build does not make', async () => {
    const refused = [
      `${APP_ORIGIN}/../secret.js`,
      `${APP_ORIGIN}/assets/../../secret.js`,
      // Normalised by URL parsing this would name a served file: refused all the same.
      `${APP_ORIGIN}/assets/../index.html`,
      `${APP_ORIGIN}/%2e%2e/secret.js`,
      `${APP_ORIGIN}/assets/%2E%2E%2F%2E%2E%2Fsecret.js`,
      `${APP_ORIGIN}/..%2fsecret.js`,
      `${APP_ORIGIN}/assets\\..\\..\\secret.js`,
      `${APP_ORIGIN}//etc/passwd.js`,
      `${APP_ORIGIN}/.env`,
      `${APP_ORIGIN}/assets/linked.js`,
      `${APP_ORIGIN}/folder.js`,
      `${APP_ORIGIN}/assets/index-Cd_2.css.map`,
      `${APP_ORIGIN}/missing.js`,
      `${APP_ORIGIN}/assets/missing.js`,
      `${APP_ORIGIN}/index.html/x.js`,
      'app://elsewhere/index.html',
      'app://renderer:8080/index.html',
      'app://user:pw@renderer/index.html',
      'file:///etc/passwd',
      imageUrl('image', 1).replace(IMAGE_SCHEME, 'app'),
      `${IMAGE_SCHEME}://renderer/index.html`,
      'not a url',
    ]
    for (const url of refused) {
      const response = await get(url)
      expect(response.status, url).toBe(404)
      expect(await response.text(), url).not.toMatch(/stolen|SECRET/)
    }
    expect((await get(APP_INDEX_URL, 'POST')).status).toBe(405)
  })

  it('names the file a URL asks for, relative to the renderer folder', () => {
    expect(appFileOf(APP_INDEX_URL)).toBe('index.html')
    expect(appFileOf(`${APP_ORIGIN}/assets/index-Ab_1.js`)).toBe('assets/index-Ab_1.js')
    expect(appFileOf(`${APP_ORIGIN}/assets/../index.html`)).toBeNull()
    expect(appFileOf(`${APP_ORIGIN}/assets/.hidden.js`)).toBeNull()
  })

  it('answers every file: request with 403', async () => {
    const response = refuseFileRequest()
    expect(response.status).toBe(403)
    expect(await response.text()).toMatch(/file: URLs are not available/)
  })
})

describe('navigation and request policy', () => {
  const dev = { ...APP_PAGES, devServerUrl: 'http://localhost:5173/' }

  it('lets the main frame move only within the app origin', () => {
    const main = (url: string) => mayNavigate({ url, isMainFrame: true }, APP_PAGES)
    expect(main(APP_INDEX_URL)).toBe(true)
    expect(main(`${APP_ORIGIN}/`)).toBe(true)
    expect(main(`${APP_ORIGIN}/index.html#/images/3`)).toBe(true)
    for (const url of [
      'https://evil.example/',
      'http://localhost:5173/',
      'file:///etc/passwd',
      'file:///opt/sam-annotator/resources/app.asar/out/renderer/index.html',
      'app://elsewhere/index.html',
      'app://renderer:1/index.html',
      'app://user@renderer/index.html',
      `${IMAGE_SCHEME}://image/1`,
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'about:blank',
      'chrome://settings',
      'not a url',
    ])
      expect(main(url), url).toBe(false)
  })

  it('never lets a sub-frame navigate, not even to the app', () => {
    expect(mayNavigate({ url: APP_INDEX_URL, isMainFrame: false }, APP_PAGES)).toBe(false)
    expect(mayNavigate({ url: 'https://evil.example/', isMainFrame: false }, APP_PAGES)).toBe(false)
  })

  it('in development follows the dev server instead of app:', () => {
    expect(mayNavigate({ url: 'http://localhost:5173/src/main.ts', isMainFrame: true }, dev)).toBe(true)
    expect(mayNavigate({ url: 'http://localhost:5174/', isMainFrame: true }, dev)).toBe(false)
    expect(mayNavigate({ url: APP_INDEX_URL, isMainFrame: true }, dev)).toBe(false)
  })

  it('loads only our page, our images, data:, blob: and DevTools; never file: or the network', () => {
    for (const url of [
      APP_INDEX_URL,
      `${APP_ORIGIN}/assets/index-Ab_1.js`,
      imageUrl('preview', 4),
      'data:image/png;base64,AAAA',
      `blob:${APP_ORIGIN}/6f1c-11`,
      'devtools://devtools/bundled/inspector.html',
    ])
      expect(mayRequest(url, APP_PAGES), url).toBe(true)
    for (const url of [
      'file:///etc/passwd',
      'FILE:///etc/passwd',
      'https://evil.example/x.js',
      'http://127.0.0.1:8080/',
      'ws://127.0.0.1:9229/',
      'app://elsewhere/index.html',
      'http://localhost:5173/',
      'not a url',
    ])
      expect(mayRequest(url, APP_PAGES), url).toBe(false)
    expect(mayRequest('http://localhost:5173/@vite/client', dev)).toBe(true)
  })

  it('compares origins field by field (WHATWG gives a custom scheme the origin "null")', () => {
    expect(new URL(APP_INDEX_URL).origin).toBe('null')
    expect(isSameOrigin(APP_INDEX_URL, APP_ORIGIN)).toBe(true)
    expect(isSameOrigin('file:///a', 'file:///a')).toBe(false)
    expect(isSameOrigin('https://a.example/x', 'https://a.example')).toBe(true)
    expect(isSameOrigin('https://a.example:444/x', 'https://a.example')).toBe(false)
  })
})

describe('IPC sender check with the app: origin', () => {
  const sender = trustedSender({
    webContentsId: () => 3,
    isAppUrl: (url) => isAppPageUrl(url, { indexHtmlUrl: APP_INDEX_URL }),
  })
  const from = (url: string, parent: unknown = null) => sender({ sender: { id: 3 }, senderFrame: { url, parent } })

  it("accepts the main frame of our window showing the app's index.html", () => {
    expect(from(APP_INDEX_URL)).toBe(true)
    expect(from(`${APP_INDEX_URL}#/images/2`)).toBe(true)
  })

  it('refuses file: pages, other app: pages and hosts, sub-frames and other windows', () => {
    for (const url of [
      'file:///opt/sam-annotator/resources/app.asar/out/renderer/index.html',
      `${APP_ORIGIN}/`,
      `${APP_ORIGIN}/other.html`,
      'app://elsewhere/index.html',
      'https://renderer/index.html',
      'not a url',
    ])
      expect(from(url), url).toBe(false)
    expect(from(APP_INDEX_URL, {})).toBe(false)
    expect(sender({ sender: { id: 4 }, senderFrame: { url: APP_INDEX_URL, parent: null } })).toBe(false)
  })

  it('in development accepts the dev server origin only', () => {
    const page = (url: string) =>
      isAppPageUrl(url, { indexHtmlUrl: APP_INDEX_URL, devServerUrl: 'http://localhost:5173' })
    expect(page('http://localhost:5173/')).toBe(true)
    expect(page(APP_INDEX_URL)).toBe(false)
    expect(page('http://localhost:5174/')).toBe(false)
  })
})
