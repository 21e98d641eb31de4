// End to end: how saved annotations look and respond on the canvas, in Chromium over the
// loopback bridge against the real core. Annotations are written through the store (as an
// import would), then the page reloads and shows them: a mask with a hole (RLE) is outlined with
// its hole open, selectable, and shows its vertices; a mask without holes is edited like a
// polygon; hovering highlights; a hidden category's annotations vanish and cannot be hit; an
// image with 10,000 polygons opens with an annotation panel of a few dozen rows.
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { rleEncode, rleToString } from '../../src-main/core/segment/rle.ts'
import {
  BACKGROUND,
  clickImage as clickOn,
  pixelAt,
  SCENES,
  screenOf,
  screenshot,
  showsImage,
  startAppForSuite,
  waitFor,
  type E2E,
} from './harness.ts'

let app: E2E
let page: Page

const canvas = () => page.getByTestId('canvas')
const attr = async (name: string) => (await canvas().getAttribute(name)) ?? ''
const clickImage = (x: number, y: number) => clickOn(page, x, y)
/** The selected annotation's id as the panel shows it ('' when none). */
const selectedId = async () =>
  (await page.locator('[data-testid="annotation-list"] li.selected button.name').count()) === 0
    ? ''
    : ((await page
        .locator('[data-testid="annotation-list"] li.selected button.name')
        .first()
        .getAttribute('data-annotation-id')) ?? '')
/** The panel's heading says how many annotations the image has. */
const listed = (n: number) => page.getByText(`Annotations (${n})`).first().waitFor({ timeout: 30_000 })

/** Near-white pixels in the 13x13 screen pixels around image pixel (x, y): a vertex handle's. */
async function whiteAround(x: number, y: number): Promise<number> {
  const at = await screenOf(page, x, y)
  const shot = await page.screenshot({
    clip: { x: Math.round(at.x) - 6, y: Math.round(at.y) - 6, width: 13, height: 13 },
  })
  const raw = await sharp(shot).removeAlpha().raw().toBuffer()
  let white = 0
  for (let i = 0; i < raw.length; i += 3) if (raw[i] > 225 && raw[i + 1] > 225 && raw[i + 2] > 225) white++
  return white
}

startAppForSuite((started) => {
  app = started
  page = started.page
})

function project() {
  const opened = app.bridge.services.projects.project
  if (opened === null) throw new Error('no project is open')
  return opened
}

function imageIdOf(file: string): number {
  const row = project()
    .listImages({})
    .find((image) => image.path === file)
  if (row === undefined) throw new Error(`${file} is not in the project`)
  return row.id
}

/** An RLE mask of the image: the rectangle [x0, x1) x [y0, y1), less the `hole` rectangle if any. */
function rectMask(
  size: { width: number; height: number },
  [x0, y0, x1, y1]: number[],
  hole?: number[],
): { size: [number, number]; counts: string } {
  const mask = new Uint8Array(size.width * size.height)
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * size.width + x] = 1
  if (hole !== undefined)
    for (let y = hole[1]; y < hole[3]; y++) for (let x = hole[0]; x < hole[2]; x++) mask[y * size.width + x] = 0
  return rleToString(rleEncode(mask, size.width, size.height)) as { size: [number, number]; counts: string }
}

const hex = (color: string) => [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16))
const distance = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])))

describe('saved annotations on the canvas', () => {
  const [first, second] = SCENES
  // On the first image's background, clear of its objects.
  const holed = { box: [440, 280, 620, 460], hole: [500, 340, 560, 400] }
  const solid = { box: [660, 300, 780, 450] }
  const RED = '#e53935'
  const BLUE = '#1e63e5'
  let holedId = 0
  let solidId = 0
  let redId = 0
  let blueId = 0
  const MANY = 10_000

  it('opens a project whose store holds a holed mask, a mask without holes, and an image of 10,000 polygons', async () => {
    await page.getByTestId('open-folder').click()
    await page.getByTestId('workspace').waitFor()
    const firstId = imageIdOf(first.file)
    const secondId = imageIdOf(second.file)
    const store = project()
    const ids = await store.transaction((tx) => {
      const red = tx.createCategory({ name: 'holed', color: RED })
      const blue = tx.createCategory({ name: 'solid', color: BLUE })
      const base = { score: null, prompt: null, modelId: null }
      const a = tx.saveAnnotation({
        ...base,
        imageId: firstId,
        categoryId: red.id,
        segmentation: rectMask(first, holed.box, holed.hole),
        bbox: [440, 280, 180, 180],
        area: 180 * 180 - 60 * 60,
      })
      const b = tx.saveAnnotation({
        ...base,
        imageId: firstId,
        categoryId: blue.id,
        segmentation: rectMask(first, solid.box),
        bbox: [660, 300, 120, 150],
        area: 120 * 150,
      })
      // 10,000 small octagons on the second image, 100 by 100.
      for (let k = 0; k < MANY; k++) {
        const cx = 4 + (k % 100) * 7.9
        const cy = 3 + Math.floor(k / 100) * 4.9
        const ring: number[] = []
        for (let v = 0; v < 8; v++) {
          const angle = (2 * Math.PI * v) / 8
          ring.push(cx + 3 * Math.cos(angle), cy + 2 * Math.sin(angle))
        }
        tx.saveAnnotation({
          ...base,
          imageId: secondId,
          categoryId: k % 2 ? red.id : blue.id,
          segmentation: [ring],
          bbox: [cx - 3, cy - 2, 6, 4],
          area: 28,
        })
      }
      return { a: a.id, b: b.id, red: red.id, blue: blue.id }
    })
    holedId = ids.a
    solidId = ids.b
    redId = ids.red
    blueId = ids.blue
    await page.reload()
    await page.getByTestId('workspace').waitFor()
    await showsImage(page, firstId)
    await listed(2)
  })

  it('a mask with a hole is outlined and filled in its colour, its hole left open', async () => {
    // Wait for the image and annotations to be painted.
    await expect.poll(async () => distance(await pixelAt(page, 300, 470), hex(BACKGROUND))).toBeLessThan(8)
    const background = await pixelAt(page, 430, 370)
    expect(distance(background, hex(BACKGROUND))).toBeLessThan(8)
    const body = await pixelAt(page, 470, 370)
    const hole = await pixelAt(page, 530, 370)
    // The body is tinted towards red; the hole shows the image as it is.
    expect(distance(body, background)).toBeGreaterThan(20)
    expect(body[0]).toBeGreaterThan(body[2])
    expect(distance(hole, background)).toBeLessThan(8)
    // The outline, on the mask's left edge, is (nearly) the category colour itself: more red than the fill.
    const edge = await pixelAt(page, holed.box[0] + 0.5, 370)
    expect(distance(edge, hex(RED))).toBeLessThan(distance(body, hex(RED)) - 40)
    // And on the hole's edge too.
    const holeEdge = await pixelAt(page, holed.hole[0] - 0.5, 370)
    expect(distance(holeEdge, hex(RED))).toBeLessThan(distance(body, hex(RED)) - 40)
    await page.setViewportSize({ width: 1024, height: 700 })
    await screenshot(page, 'saved-annotations-1024x700')
    await page.setViewportSize({ width: 1280, height: 800 })
    await screenshot(page, 'saved-annotations-1280x800')
  })

  it('hovering highlights; a click selects the holed mask and shows its vertices, which refuse to move', async () => {
    await page.keyboard.press('v')
    expect(await attr('data-tool-path')).toBe('select.idle')
    const before = await pixelAt(page, 470, 370)
    const at = await screenOf(page, 470, 370)
    await page.mouse.move(at.x, at.y)
    await expect.poll(() => attr('data-hovered')).toBe(String(holedId))
    // The hovered mask is drawn brighter: its fill differs from the resting one.
    const lit = await pixelAt(page, 470, 370)
    expect(distance(lit, before)).toBeGreaterThan(15)
    await page.mouse.move(at.x - 200, at.y + 100)
    await expect.poll(() => attr('data-hovered')).toBe('')
    expect(distance(await pixelAt(page, 470, 370), before)).toBeLessThan(4)

    // The hole is not part of it: a click there selects nothing.
    await clickImage(530, 370)
    expect(await selectedId()).toBe('')
    await clickImage(470, 370)
    await expect.poll(selectedId).toBe(String(holedId))
    // Handles on the outer ring and the hole (a rectangle each: 4 corners, maybe more).
    // Drawn: a handle (white-edged square) on a corner of the outer ring and of the hole.
    expect(await whiteAround(holed.box[2], holed.box[3])).toBeGreaterThan(6)
    expect(await whiteAround(holed.hole[0], holed.hole[1])).toBeGreaterThan(6)
    expect(await whiteAround(470, 300)).toBe(0)
    expect(Number(await attr('data-handles'))).toBeGreaterThanOrEqual(8)
    await screenshot(page, 'saved-annotations-holed-selected')
    const stored = JSON.stringify(
      project()
        .listAnnotations(imageIdOf(first.file))
        .find((a) => a.id === holedId)?.segmentation,
    )
    const corner = await screenOf(page, holed.box[2], holed.box[3])
    await page.mouse.move(corner.x, corner.y)
    await page.mouse.down()
    await page.mouse.move(corner.x + 20, corner.y + 20, { steps: 3 })
    await page.mouse.up()
    await page.getByText('its vertices cannot be moved').first().waitFor()
    const after = project()
      .listAnnotations(imageIdOf(first.file))
      .find((a) => a.id === holedId)
    expect(JSON.stringify(after?.segmentation)).toBe(stored)
  })

  it('a mask without holes is edited through its outline like a polygon', async () => {
    await clickImage(720, 375)
    await expect.poll(selectedId).toBe(String(solidId))
    const [, , x1, y1] = solid.box
    expect(await whiteAround(x1, y1)).toBeGreaterThan(6)
    expect(Number(await attr('data-handles'))).toBeGreaterThanOrEqual(4)
    const from = await screenOf(page, x1, y1)
    await page.mouse.move(from.x, from.y)
    await page.mouse.down()
    await page.mouse.move(from.x + 10, from.y + 10, { steps: 3 })
    await page.mouse.up()
    await waitFor(() => {
      const edited = project()
        .listAnnotations(imageIdOf(first.file))
        .find((a) => a.id === solidId)
      return edited !== undefined && Array.isArray(edited.segmentation)
    }, 'the mask saved as the edited polygon')
  })

  it('a hidden category vanishes from the canvas and cannot be hovered or clicked', async () => {
    await page.keyboard.press('Escape')
    await clickImage(300, 470) // nothing there: deselects
    const shown = await pixelAt(page, 470, 370)
    await page.getByTestId(`category-visible-${redId}`).uncheck()
    await expect.poll(async () => distance(await pixelAt(page, 470, 370), hex(BACKGROUND))).toBeLessThan(8)
    expect(distance(shown, hex(BACKGROUND))).toBeGreaterThan(20)
    const at = await screenOf(page, 470, 370)
    await page.mouse.move(at.x, at.y)
    await page.mouse.move(at.x + 2, at.y + 2)
    expect(await attr('data-hovered')).toBe('')
    await clickImage(470, 370)
    expect(await selectedId()).toBe('')
    await screenshot(page, 'saved-annotations-hidden')
    await page.getByTestId(`category-visible-${redId}`).check()
    await expect.poll(async () => distance(await pixelAt(page, 470, 370), hex(BACKGROUND))).toBeGreaterThan(20)
    void blueId
  })

  it('an image with 10,000 polygons opens; the annotation panel keeps a few dozen rows', async () => {
    const secondId = imageIdOf(second.file)
    await page.locator(`[data-image-id="${secondId}"]`).click()
    await showsImage(page, secondId)
    await listed(MANY)
    const rows = await page.locator('[data-testid="annotation-list"] li').count()
    expect(rows).toBeGreaterThan(5)
    expect(rows).toBeLessThan(100)
    const elements = await page.evaluate(() => document.querySelectorAll('[data-testid="annotation-list"] *').length)
    expect(elements).toBeLessThan(600)
    // Scrolled to the end, the last rows exist and the count stays small.
    await page.evaluate(() => {
      const list = document.querySelector('[data-testid="annotation-list"]')?.parentElement
      if (list) list.scrollTop = list.scrollHeight
    })
    await page.locator('[data-testid="annotation-list"] button.name').filter({ hasText: '#' }).last().waitFor()
    const last = project().listAnnotations(secondId).at(-1)?.id
    await page.locator(`[data-annotation-id="${last}"]`).waitFor()
    expect(await page.locator('[data-testid="annotation-list"] li').count()).toBeLessThan(100)
    // A click on one polygon selects it (through the spatial index) and scrolls nothing away.
    await page.keyboard.press('v')
    await clickImage(4 + 50 * 7.9, 3 + 50 * 4.9)
    await expect.poll(selectedId).not.toBe('')
    await screenshot(page, 'saved-annotations-10000')
  })
})
