// End to end: the image list of a 100,000-image project, in Chromium over the loopback bridge
// against the real core. The page stays small (only the rows in view are drawn); the current
// row stays in view as D moves on; the file name, "image n of m" and the done count are shown;
// Home / End, go to image n (Ctrl+G), the name filter (Ctrl+F, in SQL) and the status filter,
// with D / A moving within what the filters keep. The project is made fast (hard links and a
// pre-filled database, tests/helpers/big-project.ts); opening it rescans the 100,000 files.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { ARTIFACTS, screenshot, showsImage, startAppForSuite, type E2E } from './harness.ts'
import { bigImageName, writeBigProject } from '../helpers/big-project.ts'

const COUNT = 100_000
/** Every tenth image, from the fourth, is done: 10,000 of them. */
const isDone = (n: number) => n % 10 === 4
/** Most elements the whole page may hold, whatever the number of images. */
const MAX_ELEMENTS = 3_000

let app: E2E
let page: Page

startAppForSuite(
  (started) => {
    app = started
    page = started.page
  },
  { fill: (folder) => writeBigProject(folder, COUNT, (n) => (isDone(n) ? 'done' : 'new')) },
)

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
]

async function screenshots(name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size)
    await screenshot(page, `${name}-${size.width}x${size.height}`)
  }
  await page.setViewportSize(SIZES[0])
}

/** Image n's id in the project (the ids follow the names here, but ask the store). */
function idOf(n: number): number {
  const image = app.bridge.services.projects.project?.imageByPath(bigImageName(n))
  if (!image) throw new Error(`${bigImageName(n)} is not in the project`)
  return image.id
}

/** Waits until the canvas shows image n (1-based, by name). */
async function shows(n: number): Promise<void> {
  await showsImage(page, idOf(n))
}

function elementCount(): Promise<number> {
  return page.evaluate(() => document.getElementsByTagName('*').length)
}

/** The highlighted row is in the DOM and wholly inside the list's scrolled view. */
function currentRowInView(): Promise<boolean> {
  return page.evaluate(() => {
    const row = document.querySelector('[data-testid="image-list"] li.current')
    const scroller =
      document.querySelector('[data-testid="image-scroller"]') ?? document.querySelector('[data-testid="image-list"]')
    if (row === null || scroller === null) return false
    const r = row.getBoundingClientRect()
    const s = scroller.getBoundingClientRect()
    return r.height > 0 && r.top >= s.top - 0.5 && r.bottom <= s.bottom + 0.5
  })
}

const currentRowName = () => page.locator('[data-testid="image-list"] li.current .name').textContent()
const counts = () => page.getByTestId('image-counts').textContent()
const currentFile = async () => (await page.getByTestId('current-file').textContent())?.trim()

/** Rows of the list loaded so far (they arrive a page at a time after the first). */
const loaded = async () => Number(await page.getByTestId('image-list').getAttribute('data-loaded'))

/** Where the annotator is, as the list's header and highlighted row say it. */
async function expectAt(n: number, position: string): Promise<void> {
  await shows(n)
  await expect.poll(currentFile).toBe(bigImageName(n))
  await expect.poll(counts).toContain(position)
  await expect.poll(currentRowName).toBe(bigImageName(n))
  await expect.poll(currentRowInView).toBe(true)
}

describe(`the image list of ${COUNT.toLocaleString('en-US')} images`, () => {
  it('opens with the list in view and a page of at most 3,000 elements', async () => {
    const started = Date.now()
    await page.getByTestId('open-folder').click()
    await page.getByTestId('workspace').waitFor()
    await page.locator('[data-testid="image-list"] li').first().waitFor({ timeout: 60_000 })
    const openToList = Date.now() - started
    await expectAt(1, 'image 1 of 100,000')
    await expect.poll(loaded, { timeout: 20_000 }).toBe(COUNT)
    const openToWholeList = Date.now() - started
    expect(await page.getByTestId('done-count').textContent()).toBe('10,000 of 100,000 done')
    const elements = await elementCount()
    writeFileSync(
      join(ARTIFACTS, 'image-list-100k.txt'),
      `open to list: ${openToList} ms, to every row loaded: ${openToWholeList} ms (rescan of ${COUNT} files included)\nelements: ${elements}\n`,
    )
    expect(elements).toBeLessThanOrEqual(MAX_ELEMENTS)
    expect(app.errors).toEqual([])
  })

  it('after 40× D the current row is in view, with its file name, "image 41 of 100,000" and the done count', async () => {
    for (let n = 2; n <= 41; n++) {
      await page.keyboard.press('d')
      await shows(n)
    }
    await expectAt(41, 'image 41 of 100,000')
    expect(await elementCount()).toBeLessThanOrEqual(MAX_ELEMENTS)
    await screenshots('20-image-list-40-d')
  })

  it('Ctrl+D marks it done: its row and the done count change, nothing else moves', async () => {
    await page.keyboard.press('Control+d')
    await expect.poll(() => page.getByTestId('done-count').textContent()).toBe('10,001 of 100,000 done')
    await expect
      .poll(() => page.locator('[data-testid="image-list"] li.current .status').getAttribute('title'))
      .toBe('done')
    await expectAt(41, 'image 41 of 100,000')
  })

  it('End and Home go to the last and the first image', async () => {
    await page.keyboard.press('End')
    await expectAt(COUNT, 'image 100,000 of 100,000')
    await page.keyboard.press('Home')
    await expectAt(1, 'image 1 of 100,000')
  })

  it('Ctrl+G goes to image n', async () => {
    await page.keyboard.press('Control+g')
    await page.getByTestId('go-to').fill('50000')
    await page.getByTestId('go-to').press('Enter')
    await expectAt(50_000, 'image 50,000 of 100,000')
    await expect.poll(() => page.getByTestId('go-to').count()).toBe(0)
  })

  it('Ctrl+F filters by name (any case); D, A and End move within the filtered list', async () => {
    await page.keyboard.press('Control+f')
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid')))
      .toBe('name-filter')
    await page.keyboard.type('IMG-0999')
    await expect.poll(counts).toContain('not in this list · 100 listed (filtered)')
    await expect.poll(() => page.locator('[data-testid="image-list"] li').count()).toBeGreaterThan(10)
    const names = await page.locator('[data-testid="image-list"] li .name').allTextContents()
    expect(names.every((name) => name.startsWith('img-0999'))).toBe(true)
    await page.keyboard.press('Enter') // back to the shortcuts
    await page.keyboard.press('d')
    await expectAt(99_900, 'image 1 of 100 (filtered)')
    await page.keyboard.press('d')
    await expectAt(99_901, 'image 2 of 100 (filtered)')
    await page.keyboard.press('End')
    await expectAt(99_999, 'image 100 of 100 (filtered)')
    await page.keyboard.press('a')
    await expectAt(99_998, 'image 99 of 100 (filtered)')
    await screenshots('21-image-list-name-filter')
    await page.keyboard.press('Control+f')
    await page.keyboard.press('Backspace')
    await page.keyboard.press('Enter')
    // Its row is on the last page of the list again: the header says where once that is in.
    await expect.poll(loaded, { timeout: 20_000 }).toBe(COUNT)
    await expectAt(99_998, 'image 99,998 of 100,000')
  })

  it('with "done" chosen, D and A open the next and previous done image and its row is highlighted', async () => {
    await page.keyboard.press('Control+g')
    await page.getByTestId('go-to').fill('50000')
    await page.getByTestId('go-to').press('Enter')
    await expectAt(50_000, 'image 50,000 of 100,000')
    await page.getByTestId('image-filter').selectOption('done')
    await expect.poll(counts).toContain('10,001 listed (filtered)')
    // Done below 50,004: 4, 14, ... 49,994 (5,000 of them) and image 41, marked above.
    await page.keyboard.press('d')
    await expectAt(50_004, 'image 5,002 of 10,001 (filtered)')
    await page.keyboard.press('d')
    await expectAt(50_014, 'image 5,003 of 10,001 (filtered)')
    await page.keyboard.press('a')
    await page.keyboard.press('a')
    await expectAt(49_994, 'image 5,001 of 10,001 (filtered)')
    const marks = await page
      .locator('[data-testid="image-list"] li .status')
      .evaluateAll((spans) => spans.map((span) => span.getAttribute('title')))
    expect(new Set(marks)).toEqual(new Set(['done']))
    await screenshots('22-image-list-status-filter')
    expect(await elementCount()).toBeLessThanOrEqual(MAX_ELEMENTS)
    expect(app.errors).toEqual([])
  })
})
