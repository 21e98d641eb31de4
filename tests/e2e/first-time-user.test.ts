// End to end, as a first-time user met them: a refused + or Enter that left a dead prompt on
// screen, keys swallowed by the category box, a rename that Escape did not cancel, vertices
// dragged off the image, messages and hover highlights that never went away, and Ctrl+Z in a
// text field undoing an annotation. Each test fails on the build before the fix.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  clickImage as clickOn,
  SCENES,
  screenOf,
  settled as settledOn,
  startAppForSuite,
  waitFor,
  type E2E,
} from './harness.ts'

let app: E2E
let page: Page

const canvas = () => page.getByTestId('canvas')
const attr = async (name: string) => (await canvas().getAttribute(name)) ?? ''
const settled = (points: number) => settledOn(page, points)
const clickImage = (x: number, y: number) => clickOn(page, x, y)

function project() {
  const opened = app.bridge.services.projects.project
  if (opened === null) throw new Error('no project is open')
  return opened
}
const firstImageId = () =>
  project()
    .listImages({})
    .find((image) => image.path === SCENES[0].file)!.id
const annotations = () => project().listAnnotations(firstImageId())

startAppForSuite((started) => {
  app = started
  page = started.page
})

describe('a first-time user cannot break it', () => {
  const [blueRect, dumbbell, greenEllipse] = SCENES[0].objects

  it('opens the project', async () => {
    await page.getByTestId('open-folder').click()
    await page.getByTestId('workspace').waitFor()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="canvas"]')?.getAttribute('data-image-src') !== '',
    )
  })

  it('+ with nothing selected says what to do and keeps the prompt: Enter then saves it', async () => {
    await clickImage(...blueRect.click)
    await settled(1)
    await page.keyboard.press('+')
    await expect.poll(() => page.getByTestId('message').textContent()).toMatch(/Select an annotation first/)
    expect(await attr('data-tool-path')).toBe('sam.prompting')
    expect(await attr('data-points')).toBe('1')
    await page.keyboard.press('Enter')
    await waitFor(() => annotations().length === 1, 'the saved annotation')
    expect(await attr('data-tool-path')).toBe('sam.idle')
  })

  it('after Add category, a digit picks a category and Enter saves the mask (no category "1")', async () => {
    await clickImage(...dumbbell.click)
    await settled(1)
    await page.getByTestId('new-category').fill('cat-b')
    await page.getByTestId('new-category').press('Enter')
    await waitFor(
      () =>
        project()
          .listCategories()
          .some((c) => c.name === 'cat-b'),
      'the new category',
    )
    await page.keyboard.press('1')
    await page.keyboard.press('Enter')
    await waitFor(() => annotations().length === 2, 'the second annotation')
    const categories = project().listCategories()
    expect(categories.map((c) => c.name)).not.toContain('1')
    expect(annotations()[1].categoryId).toBe(categories[0].id)
  })

  it('Escape cancels a category rename', async () => {
    const before = project().listCategories()[0]
    await page.getByTestId('categories').locator('li').first().locator('button.name').dblclick()
    await page.locator('input.rename').fill('typed by mistake')
    await page.locator('input.rename').press('Escape')
    await expect.poll(() => page.locator('input.rename').count()).toBe(0)
    // Give a late save every chance to arrive.
    await page.waitForTimeout(300)
    expect(project().listCategories()[0].name).toBe(before.name)
  })

  it('a vertex dragged off the image is saved on its edge, never at negative coordinates', async () => {
    await clickImage(...greenEllipse.click)
    await settled(1)
    await page.keyboard.press('Enter')
    await waitFor(() => annotations().length === 3, 'the third annotation')
    const target = annotations()[0]
    if (!Array.isArray(target.segmentation)) throw new Error('expected a polygon')
    await page.keyboard.press('v')
    await clickImage(...blueRect.click)
    await expect.poll(() => page.locator('[data-testid="annotation-list"] li.selected').count()).toBe(1)
    // The vertex nearest the image's top-left corner, dragged far past it.
    const ring = target.segmentation[0]
    let corner = 0
    for (let i = 0; i < ring.length; i += 2) if (ring[i] + ring[i + 1] < ring[corner] + ring[corner + 1]) corner = i
    const from = await screenOf(page, ring[corner], ring[corner + 1])
    const origin = await screenOf(page, 0, 0)
    await page.mouse.move(from.x, from.y)
    await page.mouse.down()
    await page.mouse.move(origin.x - 40, origin.y - 40, { steps: 6 })
    await page.mouse.up()
    await waitFor(() => {
      const moved = annotations().find((a) => a.id === target.id)
      return moved !== undefined && moved.updatedAt !== target.updatedAt
    }, 'the moved vertex')
    const moved = annotations().find((a) => a.id === target.id)!
    expect(Math.min(...(moved.segmentation as number[][]).flat())).toBe(0)
    expect(moved.bbox[0]).toBe(0)
    expect(moved.bbox[1]).toBe(0)
    expect(page.getByTestId('message')).toBeDefined()
    expect(app.errors).toEqual([])
  })

  it('switching tools clears the hover highlight', async () => {
    const inside = await screenOf(page, ...blueRect.click)
    await page.mouse.move(inside.x, inside.y)
    await expect.poll(() => attr('data-hovered')).not.toBe('')
    await page.keyboard.press('s')
    await expect.poll(() => attr('data-hovered')).toBe('')
  })

  it('Ctrl+Z typed in a text field undoes the typing, not the last annotation', async () => {
    const before = JSON.stringify(annotations())
    const field = page.getByTestId('new-category')
    await field.click()
    await field.pressSequentially('abc')
    // Main reports the menu accelerator as it does in Electron.
    app.bridge.emit('menu', { command: 'edit.undo', byKey: true })
    await expect.poll(() => field.inputValue()).not.toBe('abc')
    await page.waitForTimeout(300)
    expect(JSON.stringify(annotations())).toBe(before)
    // Clicked in the menu, Undo is the annotation undo wherever the focus is: the vertex moves back.
    app.bridge.emit('menu', { command: 'edit.undo', byKey: false })
    await waitFor(() => JSON.stringify(annotations()) !== before, 'the undone vertex move')
  })

  it('messages go away after a while', async () => {
    await page.clock.install()
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    await page.keyboard.press('Escape')
    await page.keyboard.press('s')
    await clickImage(...dumbbell.click)
    await settled(1)
    await page.keyboard.press('+')
    const message = page.getByTestId('message')
    await expect.poll(() => message.textContent()).toMatch(/Select an annotation first/)
    // Far longer than any message stays.
    await page.clock.fastForward(60_000)
    await expect.poll(() => message.count()).toBe(0)
  })
})
