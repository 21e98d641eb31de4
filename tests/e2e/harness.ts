// Shared set-up of the end-to-end tests: the Chromium tests/helpers/browser.ts picks (with a clear
// failure when none starts), the renderer built into a private folder (so a parallel `electron-vite build`
// elsewhere in the suite cannot race it), a generated project of flat-coloured objects with
// their truth masks, and helpers to reach canvas coordinates and the database.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import sharp from 'sharp'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { findBrowser, launchBrowser } from '../helpers/browser.ts'
import { drawTruth } from '../helpers/demo-scenes.ts'
import { polygonsToShape, decodeStoredRle } from '../../src-main/core/coco/geometry.ts'
import { rasterizeShape, rleDecode, type Rle } from '../../src-main/core/segment/rle.ts'
import type { Segmentation } from '../../src-preload/contract/schemas.ts'
import { BROWSER_CHANNELS, installBrowserApi, KEEP_NAMES_SHIM, ROOT, startBridge, type Bridge } from './bridge.ts'

export const ARTIFACTS = join(ROOT, 'test-artifacts')

const run = promisify(execFile)

/** Builds the renderer (vite, the same config electron-vite uses for it) into a private folder. */
export async function buildRenderer(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'sam-e2e-renderer-'))
  await run(
    join(ROOT, 'node_modules', '.bin', 'vite'),
    ['build', '--config', 'vite.renderer.config.ts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'],
    {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    },
  )
  return outDir
}

export interface SceneObject {
  name: string
  /** SVG elements of the object. */
  svg: string
  colour: string
  /** A point inside it. */
  click: [number, number]
}

export interface SceneImage {
  file: string
  width: number
  height: number
  objects: SceneObject[]
}

export const BACKGROUND = '#e6d7b4'

/** Two images, three objects to label, and a dumbbell (rectangle joined to a circle, one colour) for the negative-click test. */
export const SCENES: SceneImage[] = [
  {
    file: 'a-first.png',
    width: 800,
    height: 500,
    objects: [
      {
        name: 'blue-rect',
        svg: '<rect x="60" y="60" width="240" height="200"/>',
        colour: '#2870be',
        click: [180, 160],
      },
      {
        name: 'dumbbell',
        svg: '<rect x="420" y="90" width="200" height="120"/><circle cx="690" cy="150" r="80"/>',
        colour: '#d23c28',
        click: [480, 150],
      },
      {
        name: 'green-ellipse',
        svg: '<ellipse cx="220" cy="390" rx="130" ry="70"/>',
        colour: '#2e8b3a',
        click: [220, 390],
      },
    ],
  },
  {
    file: 'b-second.png',
    width: 800,
    height: 500,
    objects: [
      { name: 'purple-disc', svg: '<circle cx="400" cy="250" r="120"/>', colour: '#7a3ea8', click: [400, 250] },
      // A ring: its mask has a hole, so it is saved as compressed RLE.
      {
        name: 'orange-ring',
        svg: '<path fill-rule="evenodd" d="M600 130a80 80 0 1 0 160 0a80 80 0 1 0 -160 0zM645 130a35 35 0 1 0 70 0a35 35 0 1 0 -70 0z"/>',
        colour: '#e08a1e',
        click: [620, 130],
      },
    ],
  },
]

export async function writeScenes(
  folder: string,
  scenes: SceneImage[] = SCENES,
  background = BACKGROUND,
): Promise<void> {
  for (const scene of scenes) {
    const body = scene.objects.map((o) => `<g fill="${o.colour}" fill-rule="evenodd">${o.svg}</g>`).join('')
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}"><rect width="100%" height="100%" fill="${background}"/>${body}</svg>`
    await sharp(Buffer.from(svg), { density: 72 }).removeAlpha().png().toFile(join(folder, scene.file))
  }
}

/** Row-major truth mask of one object. */
export function truthOf(scene: SceneImage, object: SceneObject): Promise<Uint8Array> {
  return drawTruth(scene.width, scene.height, object.svg)
}

/** IoU of a stored segmentation against a row-major truth mask. */
export function iouWith(segmentation: Segmentation, truth: Uint8Array, width: number, height: number): number {
  const rle: Rle = Array.isArray(segmentation)
    ? rasterizeShape(polygonsToShape(segmentation), width, height)
    : decodeStoredRle(segmentation)
  const mask = rleDecode(rle)
  let both = 0
  let either = 0
  for (let i = 0; i < mask.length; i++) {
    const a = mask[i] === 1
    const b = truth[i] === 1
    if (a && b) both++
    if (a || b) either++
  }
  return either === 0 ? 0 : both / either
}

export interface E2E {
  browser: Browser
  page: Page
  bridge: Bridge
  /** The temporary folder holding the project folder and whatever a test writes beside it. */
  work: string
  folder: string
  exportFile: string
  /** What the open-file dialog answers next (Import COCO…); null: cancelled. */
  openFile: string | null
  errors: string[]
  close(): Promise<void>
}

/** Chromium showing the app at `url` (a bridge's), with page errors and console errors collected. */
export async function openPage(url: string): Promise<{ browser: Browser; page: Page; errors: string[] }> {
  const browser = await launchBrowser()
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico'))
      errors.push(`${message.text()} (${message.location().url})`)
  })
  await page.addInitScript(KEEP_NAMES_SHIM)
  await page.addInitScript(installBrowserApi, BROWSER_CHANNELS)
  await page.goto(url)
  mkdirSync(ARTIFACTS, { recursive: true })
  return { browser, page, errors }
}

/**
 * A suite's app: the browser found first (a missing one fails with its reason, not a timeout),
 * the renderer built privately and started over the scenes (or what `fill` writes) before the
 * suite, closed and removed after it. `started` receives the running app.
 */
export function startAppForSuite(
  started: (app: E2E) => void,
  options: { fill?: (folder: string) => Promise<void> } = {},
): void {
  let app: E2E | undefined
  let rendererDir: string | undefined
  beforeAll(async () => {
    await findBrowser()
    rendererDir = await buildRenderer()
    app = await startApp(rendererDir, options.fill)
    started(app)
  }, 120_000)
  afterAll(async () => {
    await app?.close()
    if (rendererDir) rmSync(rendererDir, { recursive: true, force: true })
  })
}

/** A project folder (the scenes, unless `fill` writes it), the bridge over it, and a page showing the app. */
export async function startApp(
  rendererDir: string,
  fill: (folder: string) => Promise<void> = (folder) => writeScenes(folder),
): Promise<E2E> {
  const work = mkdtempSync(join(tmpdir(), 'sam-e2e-'))
  const folder = join(work, 'images')
  mkdirSync(folder)
  await fill(folder)
  const exportFile = join(work, 'export.coco.json')
  // The native dialogs are the one process boundary stubbed: they answer what the test set.
  const bridge = await startBridge({
    rendererDir,
    userDataDir: join(work, 'user-data'),
    dialogs: { folder: () => folder, saveFile: () => exportFile, openFile: () => app.openFile },
  })
  const { browser, page, errors } = await openPage(bridge.url)
  const app: E2E = {
    browser,
    page,
    bridge,
    work,
    folder,
    exportFile,
    openFile: null,
    errors,
    async close() {
      await browser.close()
      await bridge.close()
      rmSync(work, { recursive: true, force: true })
    },
  }
  return app
}

/** Where image pixel (x, y) is on the page, from the camera the canvas publishes. */
export async function screenOf(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const canvas = page.getByTestId('canvas')
  const box = await canvas.boundingBox()
  if (box === null) throw new Error('the canvas is not visible')
  const [scale, cx, cy] = await Promise.all(
    ['data-scale', 'data-x', 'data-y'].map(async (name) => Number(await canvas.getAttribute(name))),
  )
  return { x: box.x + x * scale + cx, y: box.y + y * scale + cy }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
}

export function writeArtifact(name: string, text: string): void {
  mkdirSync(ARTIFACTS, { recursive: true })
  writeFileSync(join(ARTIFACTS, name), text)
}

/** Waits until the preview reflects `points` points and no decode is in flight. */
export async function settled(page: Page, points: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const el = document.querySelector('[data-testid="canvas"]')
      return el?.getAttribute('data-points') === String(n) && el.getAttribute('data-pending') === 'false'
    },
    points,
    { timeout: 20_000 },
  )
}

/** A click at image pixel (x, y); Shift held around it when asked. */
export async function clickImage(
  page: Page,
  x: number,
  y: number,
  options: { button?: 'left' | 'right'; modifiers?: ('Shift' | 'Control')[] } = {},
): Promise<void> {
  const at = await screenOf(page, x, y)
  await page.mouse.move(at.x, at.y)
  if (options.modifiers?.includes('Shift')) await page.keyboard.down('Shift')
  await page.mouse.click(at.x, at.y, { button: options.button ?? 'left' })
  if (options.modifiers?.includes('Shift')) await page.keyboard.up('Shift')
}

/** A plain drag from image pixel `from` to `to`, in a few steps. */
export async function dragImage(page: Page, from: [number, number], to: [number, number]): Promise<void> {
  const a = await screenOf(page, ...from)
  const b = await screenOf(page, ...to)
  await page.mouse.move(a.x, a.y)
  await page.mouse.down()
  await page.mouse.move(b.x, b.y, { steps: 6 })
  await page.mouse.up()
}

/** Polls a condition on this side (the database, a file) until it holds. */
export async function waitFor(check: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 50))
  }
}

/** The RGB on screen at image pixel (x, y). */
export async function pixelAt(page: Page, x: number, y: number): Promise<number[]> {
  const at = await screenOf(page, x, y)
  const shot = await page.screenshot({ clip: { x: Math.round(at.x), y: Math.round(at.y), width: 1, height: 1 } })
  return [...(await sharp(shot).removeAlpha().raw().toBuffer())]
}

/** Waits until the canvas shows image `imageId` (its URL carries the id, then `?v=`). */
export async function showsImage(page: Page, imageId: number): Promise<void> {
  await page.waitForFunction(
    (id) =>
      (document.querySelector('[data-testid="canvas"]')?.getAttribute('data-image-src') ?? '').includes(`/${id}?v=`),
    imageId,
  )
}
