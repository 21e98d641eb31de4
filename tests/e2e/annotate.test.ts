// End to end: the built renderer in Chromium, over the loopback bridge, against the real core
// (demo model, SQLite, generated images). One project is labelled step by step, so the tests
// run in order and each starts where the previous one left the app.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  clickImage as clickOn,
  iouWith,
  pixelAt,
  SCENES,
  screenOf,
  screenshot,
  settled as settledOn,
  showsImage,
  startAppForSuite,
  truthOf,
  waitFor,
  type E2E,
} from './harness.ts'

let app: E2E
let page: Page

const canvas = () => page.getByTestId('canvas')
const attr = async (name: string) => (await canvas().getAttribute(name)) ?? ''

const settled = (points: number) => settledOn(page, points)
const clickImage = (x: number, y: number, options?: Parameters<typeof clickOn>[3]) => clickOn(page, x, y, options)

async function previewArea(): Promise<number> {
  return Number(await attr('data-preview-area'))
}

function annotationsOf(imageId: number) {
  const project = app.bridge.services.projects.project
  if (project === null) throw new Error('no project is open')
  return project.listAnnotations(imageId)
}

function imageIdOf(file: string): number {
  const project = app.bridge.services.projects.project
  const row = project?.listImages({}).find((image) => image.path === file)
  if (row === undefined) throw new Error(`${file} is not in the project`)
  return row.id
}

startAppForSuite((started) => {
  app = started
  page = started.page
})

describe('annotation UI in Chromium against the real core', () => {
  const [first, second] = SCENES
  const [blueRect, dumbbell, greenEllipse] = first.objects

  it('opens a generated project from the welcome screen', async () => {
    await page.getByTestId('welcome').waitFor()
    await page.getByTestId('demo-notice').first().waitFor()
    await screenshot(page, '01-welcome')
    await page.getByTestId('open-folder').click()
    await page.getByTestId('workspace').waitFor()
    await expect.poll(() => page.locator('[data-testid="image-list"] li').count()).toBe(2)
    await page.waitForFunction(
      () => document.querySelector('[data-testid="canvas"]')?.getAttribute('data-image-src') !== '',
    )
    await screenshot(page, '02-workspace')
  })

  it('a click shows the preview; Enter saves it with IoU >= 0.95 against the truth', async () => {
    await clickImage(...blueRect.click)
    await settled(1)
    expect(await attr('data-tool-path')).toBe('sam.prompting')
    expect(await previewArea()).toBeGreaterThan(0.9 * 240 * 200)
    await page.getByTestId('preview-score').waitFor()
    await screenshot(page, '03-preview')
    await page.keyboard.press('Enter')
    const imageId = imageIdOf(first.file)
    await waitFor(() => annotationsOf(imageId).length === 1, 'the saved annotation')
    const [saved] = annotationsOf(imageId)
    expect(
      iouWith(saved.segmentation, await truthOf(first, blueRect), first.width, first.height),
    ).toBeGreaterThanOrEqual(0.95)
    expect(await attr('data-points')).toBe('0')
    expect(await attr('data-tool-path')).toBe('sam.idle')
    await expect.poll(() => page.locator('[data-testid="annotation-list"] li').count()).toBe(1)
    await screenshot(page, '04-saved')
  })

  it('a negative click shrinks the mask; Backspace restores the previous mask exactly; Tab changes the candidate', async () => {
    await clickImage(...dumbbell.click)
    await settled(1)
    const whole = await previewArea()
    const firstCandidate = await attr('data-preview-candidate')
    expect(whole).toBeGreaterThan(200 * 120 + 0.8 * Math.PI * 80 * 80)
    await clickImage(700, 150, { button: 'right' })
    await settled(2)
    const shrunk = await previewArea()
    expect(shrunk).toBeLessThan(whole - 0.5 * Math.PI * 80 * 80)
    await screenshot(page, '05-negative')
    await page.keyboard.press('Backspace')
    await settled(1)
    expect(await previewArea()).toBe(whole)
    expect(await attr('data-preview-candidate')).toBe(firstCandidate)
    await page.keyboard.press('Tab')
    await page.waitForFunction(
      (c) => document.querySelector('[data-testid="canvas"]')?.getAttribute('data-preview-candidate') !== c,
      firstCandidate,
    )
    await settled(1)
    expect(await attr('data-preview-candidate')).not.toBe(firstCandidate)
    await page.keyboard.press('Shift+Tab')
    await page.waitForFunction(
      (c) => document.querySelector('[data-testid="canvas"]')?.getAttribute('data-preview-candidate') === c,
      firstCandidate,
    )
    await page.keyboard.press('Escape')
    expect(await attr('data-points')).toBe('0')
    expect(annotationsOf(imageIdOf(first.file))).toHaveLength(1)
  })

  it('labels three objects on two images from the keyboard, with category keys', async () => {
    // Two categories, typed into the panel (shortcuts must not fire while typing: 'd' is next image).
    for (const name of ['shape', 'disc']) {
      await page.getByTestId('new-category').fill(name)
      await page.getByTestId('new-category').press('Enter')
      await expect.poll(() => page.getByTestId('categories').locator('li').count()).toBeGreaterThan(0)
    }
    const categories = () => app.bridge.services.projects.project!.listCategories()
    await waitFor(() => categories().some((c) => c.name === 'disc'), 'the categories')
    await expect.poll(() => page.getByTestId('image-list').locator('li.current').textContent()).toContain(first.file)
    const firstId = imageIdOf(first.file)
    const before = annotationsOf(firstId).length
    const shape = categories().find((c) => c.name === 'shape')!
    const disc = categories().find((c) => c.name === 'disc')!
    const index = (id: number) => categories().findIndex((c) => c.id === id) + 1

    await page.locator('body').click({ position: { x: 1, y: 1 } })
    // Object 1: green ellipse, category by key, point by key (Q at the cursor), accept with F.
    await page.keyboard.press(String(index(shape.id)))
    const ellipseAt = await screenOf(page, ...greenEllipse.click)
    await page.mouse.move(ellipseAt.x, ellipseAt.y)
    await page.keyboard.press('q')
    await settled(1)
    await page.keyboard.press('f')
    await waitFor(() => annotationsOf(firstId).length === before + 1, 'the ellipse')
    // Object 2: the dumbbell's rectangle (positive) minus its circle (negative, W), Enter.
    const rectAt = await screenOf(page, ...dumbbell.click)
    await page.mouse.move(rectAt.x, rectAt.y)
    await page.keyboard.press('q')
    await settled(1)
    const circleAt = await screenOf(page, 700, 150)
    await page.mouse.move(circleAt.x, circleAt.y)
    await page.keyboard.press('w')
    await settled(2)
    await page.keyboard.press('Enter')
    await waitFor(() => annotationsOf(firstId).length === before + 2, 'the dumbbell rectangle')
    // Next image (D), category 'disc', object 3.
    await page.keyboard.press('d')
    await expect.poll(() => page.getByTestId('image-list').locator('li.current').textContent()).toContain(second.file)
    await showsImage(page, imageIdOf(second.file))
    await page.keyboard.press(String(index(disc.id)))
    const discAt = await screenOf(page, ...second.objects[0].click)
    await page.mouse.move(discAt.x, discAt.y)
    await page.keyboard.press('q')
    await settled(1)
    await screenshot(page, '06-keyboard-second-image')
    await page.keyboard.press('Enter')
    const secondId = imageIdOf(second.file)
    await waitFor(() => annotationsOf(secondId).length === 1, 'the disc')
    await screenshot(page, '06b-disc-saved')

    const firstSaved = annotationsOf(firstId)
    const ellipse = firstSaved[before]
    expect(ellipse.categoryId).toBe(shape.id)
    expect(
      iouWith(ellipse.segmentation, await truthOf(first, greenEllipse), first.width, first.height),
    ).toBeGreaterThanOrEqual(0.95)
    const rectOnly = await truthOf(first, { ...dumbbell, svg: '<rect x="420" y="90" width="200" height="120"/>' })
    expect(iouWith(firstSaved[before + 1].segmentation, rectOnly, first.width, first.height)).toBeGreaterThan(0.8)
    const [discSaved] = annotationsOf(secondId)
    expect(discSaved.categoryId).toBe(disc.id)
    expect(
      iouWith(discSaved.segmentation, await truthOf(second, second.objects[0]), second.width, second.height),
    ).toBeGreaterThanOrEqual(0.95)
    // Back with the arrow key.
    await page.keyboard.press('ArrowLeft')
    await expect.poll(() => page.getByTestId('image-list').locator('li.current').textContent()).toContain(first.file)
  })

  it('a shape with a hole is saved as RLE and drawn; ? shows the keymap', async () => {
    const ring = second.objects[1]
    await page.keyboard.press('d')
    await expect.poll(() => page.getByTestId('image-list').locator('li.current').textContent()).toContain(second.file)
    await showsImage(page, imageIdOf(second.file))
    await clickImage(...ring.click)
    await settled(1)
    await page.keyboard.press('Enter')
    const secondId = imageIdOf(second.file)
    await waitFor(() => annotationsOf(secondId).length === 2, 'the ring')
    const saved = annotationsOf(secondId)[1]
    expect(Array.isArray(saved.segmentation)).toBe(false)
    expect(
      iouWith(saved.segmentation, await truthOf(second, ring), second.width, second.height),
    ).toBeGreaterThanOrEqual(0.95)
    // Drawn: hiding annotations (H) changes the ring's body on screen, not its hole.
    const pixel = (x: number, y: number) => pixelAt(page, x, y)
    await page.mouse.move(5, 5)
    const shown = { body: await pixel(615, 130), hole: await pixel(680, 130) }
    await page.keyboard.press('h')
    const hidden = { body: await pixel(615, 130), hole: await pixel(680, 130) }
    await page.keyboard.press('h')
    expect(shown.body).not.toEqual(hidden.body)
    expect(shown.hole).toEqual(hidden.hole)
    await page.keyboard.press('Shift+?')
    await page.getByTestId('help').waitFor()
    expect(await page.getByTestId('help').textContent()).toContain('Next Candidate Mask')
    await screenshot(page, '07-help')
    await page.keyboard.press('Escape')
    await expect.poll(() => page.getByTestId('help').count()).toBe(0)
    await page.keyboard.press('a')
    await expect.poll(() => page.getByTestId('image-list').locator('li.current').textContent()).toContain(first.file)
  })

  it('re-prompts a selected annotation from its saved mask: Enter updates it, undo restores it', async () => {
    const firstId = imageIdOf(first.file)
    // The dumbbell's rectangle, saved without its circle (a negative point) by the keyboard test.
    const rect = annotationsOf(firstId).find((a) => a.bbox[0] > 400 && a.bbox[0] + a.bbox[2] < 700)!
    const count = annotationsOf(firstId).length
    await page.getByTestId('annotation-list').locator(`[data-annotation-id="${rect.id}"]`).click()
    await page.getByTestId('refine-hint').waitFor()
    // A click on the selection re-prompts it: one new point, the decode seeded by its mask
    // (reprompt) instead of its old points, so the negative point is gone and the
    // same-coloured circle joins.
    await clickImage(560, 120)
    await settled(1)
    expect(await attr('data-reprompt')).toBe(String(rect.id))
    const decode = app.bridge.calls.filter((call) => call.channel === 'annot:segment.decode').at(-1)
    expect(decode?.arg).toMatchObject({ reprompt: rect.id, points: [{ x: 560, y: 120, label: 1 }] })
    expect(await previewArea()).toBeGreaterThan(rect.area + 0.8 * Math.PI * 80 * 80)
    await screenshot(page, '06c-reprompt')
    await page.keyboard.press('Enter')
    await waitFor(
      () => annotationsOf(firstId).find((a) => a.id === rect.id)!.area > rect.area * 1.5,
      'the refined annotation',
    )
    expect(annotationsOf(firstId)).toHaveLength(count)
    const refined = annotationsOf(firstId).find((a) => a.id === rect.id)!
    expect(refined.prompt!.points).toHaveLength(rect.prompt!.points.length + 1)
    await page.keyboard.press('Control+z')
    await waitFor(
      () => annotationsOf(firstId).find((a) => a.id === rect.id)!.area === rect.area,
      'the undone refinement',
    )
    await page.keyboard.press('Escape')
  })

  it('+ adds the prompted mask to the selection; undo takes it back', async () => {
    const firstId = imageIdOf(first.file)
    // The dumbbell's rectangle, saved without its circle by the keyboard test.
    const rect = annotationsOf(firstId).find((a) => a.bbox[0] > 400 && a.bbox[0] + a.bbox[2] < 700)!
    await page.getByTestId('annotation-list').locator(`[data-annotation-id="${rect.id}"]`).click()
    await page.getByTestId('refine-hint').waitFor()
    // Outside the selection: a new mask (the whole same-coloured dumbbell), not a refinement.
    await clickImage(700, 150)
    await settled(1)
    expect(await attr('data-reprompt')).toBe('')
    const decode = app.bridge.calls.filter((call) => call.channel === 'annot:segment.decode').at(-1)
    expect(decode?.arg).not.toHaveProperty('reprompt')
    await page.keyboard.press('+')
    await waitFor(
      () => annotationsOf(firstId).find((a) => a.id === rect.id)!.area > rect.area + 0.8 * Math.PI * 80 * 80,
      'the added mask',
    )
    const grown = annotationsOf(firstId).find((a) => a.id === rect.id)!
    expect(grown.bbox[0] + grown.bbox[2]).toBeGreaterThan(760)
    await page.keyboard.press('Control+z')
    await waitFor(() => annotationsOf(firstId).find((a) => a.id === rect.id)!.area === rect.area, 'the undone addition')
    await page.keyboard.press('Escape')
  })

  it('- cuts a box-prompted mask out of the selection; undo puts it back', async () => {
    const firstId = imageIdOf(first.file)
    // The blue rectangle covers x 60..300, y 60..260.
    const blue = annotationsOf(firstId).find((a) => Math.abs(a.bbox[0] - 60) <= 3 && Math.abs(a.bbox[1] - 60) <= 3)!
    await page.getByTestId('annotation-list').locator(`[data-annotation-id="${blue.id}"]`).click()
    await page.getByTestId('refine-hint').waitFor()
    // A box from outside the selection over its left part: the prompted mask is that part.
    const from = await screenOf(page, 40, 40)
    const to = await screenOf(page, 170, 280)
    await page.keyboard.down('Control')
    await page.mouse.move(from.x, from.y)
    await page.mouse.down()
    await page.mouse.move(to.x, to.y, { steps: 6 })
    await page.mouse.up()
    await page.keyboard.up('Control')
    await settled(0)
    expect(await attr('data-reprompt')).toBe('')
    expect(await previewArea()).toBeGreaterThan(0.8 * 110 * 200)
    await page.keyboard.press('-')
    await waitFor(() => {
      const cut = annotationsOf(firstId).find((a) => a.id === blue.id)!
      return cut.area < blue.area - 0.8 * 110 * 200
    }, 'the cut')
    const cut = annotationsOf(firstId).find((a) => a.id === blue.id)!
    // The middle of the cut part is gone, the right part stays (a sliver along the old edge may
    // remain where the two masks' edges differ by a pixel).
    const inside = (x: number, y: number) =>
      Array.isArray(cut.segmentation) &&
      cut.segmentation.some((ring) => {
        let hit = false
        for (let i = 0, j = ring.length - 2; i < ring.length; j = i, i += 2) {
          const [xi, yi, xj, yj] = [ring[i], ring[i + 1], ring[j], ring[j + 1]]
          if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit
        }
        return hit
      })
    expect(inside(115, 160)).toBe(false)
    expect(inside(240, 160)).toBe(true)
    expect(cut.bbox[0] + cut.bbox[2]).toBeGreaterThanOrEqual(297)
    await screenshot(page, '06d-subtracted')
    await page.keyboard.press('Control+z')
    await waitFor(() => annotationsOf(firstId).find((a) => a.id === blue.id)!.area === blue.area, 'the undone cut')
    await page.keyboard.press('Escape')
  })

  it('undo and redo persist through the store', async () => {
    const firstId = imageIdOf(first.file)
    await expect
      .poll(() => page.locator('[data-testid="annotation-list"] li').count())
      .toBe(annotationsOf(firstId).length)
    const count = annotationsOf(firstId).length
    await page.keyboard.press('Control+z')
    await waitFor(() => annotationsOf(firstId).length === count - 1, 'undo')
    await page.keyboard.press('Control+Shift+Z')
    await waitFor(() => annotationsOf(firstId).length === count, 'redo')
    await expect.poll(() => page.locator('[data-testid="annotation-list"] li').count()).toBe(count)
  })

  it('a dragged vertex persists; Delete removes the selected annotation', async () => {
    const firstId = imageIdOf(first.file)
    const target = annotationsOf(firstId)[0]
    if (!Array.isArray(target.segmentation)) throw new Error('expected a polygon')
    await page.keyboard.press('v')
    expect(await attr('data-tool-path')).toBe('select.idle')
    await clickImage(...blueRect.click)
    await expect.poll(() => page.locator('[data-testid="annotation-list"] li.selected').count()).toBe(1)
    const [vx, vy] = target.segmentation[0]
    const from = await screenOf(page, vx, vy)
    await page.mouse.move(from.x, from.y)
    await page.mouse.down()
    await page.mouse.move(from.x - 20, from.y - 20, { steps: 4 })
    await page.mouse.up()
    await waitFor(() => {
      const moved = annotationsOf(firstId).find((a) => a.id === target.id)
      return moved !== undefined && Array.isArray(moved.segmentation) && moved.segmentation[0][0] < vx - 5
    }, 'the moved vertex')
    await screenshot(page, '08-vertex-drag')
    const count = annotationsOf(firstId).length
    await page.keyboard.press('Delete')
    await waitFor(() => annotationsOf(firstId).length === count - 1, 'the deletion')
    expect(annotationsOf(firstId).some((a) => a.id === target.id)).toBe(false)
    await page.keyboard.press('s')
  })

  it('draws a polygon by hand; marks the image done', async () => {
    const firstId = imageIdOf(first.file)
    const count = annotationsOf(firstId).length
    await page.keyboard.press('p')
    expect(await attr('data-tool-path')).toBe('polygon.idle')
    for (const [x, y] of [
      [700, 400],
      [780, 400],
      [780, 470],
      [700.5, 400.5],
    ] as const)
      await clickImage(x, y)
    await waitFor(() => annotationsOf(firstId).length === count + 1, 'the hand-drawn polygon')
    const drawn = annotationsOf(firstId).at(-1)!
    expect(drawn.segmentation).toHaveLength(1)
    expect((drawn.segmentation as number[][])[0]).toHaveLength(6)
    expect(drawn.area).toBeCloseTo((80 * 70) / 2, 0)
    expect(drawn.prompt).toBeNull()
    await page.keyboard.press('s')
    await page.keyboard.press('Control+d')
    await waitFor(() => app.bridge.services.projects.project!.getImage(firstId).status === 'done', 'the done status')
  })

  it('categories: rename, recolour, reorder, and delete asks when annotations use it', async () => {
    const project = app.bridge.services.projects.project!
    const byName = (name: string) => project.listCategories().find((c) => c.name === name)
    const row = (name: string) => page.getByTestId('categories').locator('li', { hasText: name })
    await row('object').locator('button.name').dblclick()
    await page.locator('input.rename').fill('box')
    await page.locator('input.rename').press('Enter')
    await waitFor(() => byName('box') !== undefined, 'the rename')
    await row('box')
      .locator('input[type="color"]')
      .evaluate((input: HTMLInputElement) => {
        input.value = '#123456'
        input.dispatchEvent(new Event('change', { bubbles: true }))
      })
    await waitFor(() => byName('box')?.color === '#123456', 'the new colour')
    const before = project.listCategories().map((c) => c.name)
    await row('box').locator('button[title="Move down"]').click()
    await waitFor(() => project.listCategories()[1]?.name === 'box', 'the reorder')
    expect(project.listCategories().map((c) => c.name)).toEqual([before[1], before[0], ...before.slice(2)])
    // 'disc' is used by the disc on the second image: the UI asks before deleting both.
    const discId = byName('disc')!.id
    const dialogs: string[] = []
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message())
      void dialog.accept()
    })
    await row('disc').locator('button[title^="Delete"]').click()
    await waitFor(() => byName('disc') === undefined, 'the deletion of the category')
    expect(dialogs[0]).toMatch(/disc/)
    expect(annotationsOf(imageIdOf(second.file)).some((a) => a.categoryId === discId)).toBe(false)
  })

  it('exports COCO from the UI and the file is valid', async () => {
    await page.getByTestId('export-coco').click()
    await page.getByTestId('export-result').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('export-result').textContent()).toContain(app.exportFile)
    const coco = JSON.parse(readFileSync(app.exportFile, 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[]
      annotations: {
        id: number
        image_id: number
        category_id: number
        bbox: number[]
        area: number
        segmentation: unknown
      }[]
      categories: { id: number; name: string }[]
    }
    const total = annotationsOf(imageIdOf(first.file)).length + annotationsOf(imageIdOf(second.file)).length
    expect(coco.images.map((i) => i.file_name).sort()).toEqual([first.file, second.file])
    expect(coco.annotations).toHaveLength(total)
    const imageIds = new Set(coco.images.map((i) => i.id))
    const categoryIds = new Set(coco.categories.map((c) => c.id))
    for (const annotation of coco.annotations) {
      expect(imageIds.has(annotation.image_id)).toBe(true)
      expect(categoryIds.has(annotation.category_id)).toBe(true)
      expect(annotation.area).toBeGreaterThan(0)
      expect(annotation.bbox).toHaveLength(4)
    }
    await screenshot(page, '09-exported')
    expect(app.errors).toEqual([])
  })

  it('a slow encode shows its elapsed and expected time over the canvas, and goes when the embedding is ready', async () => {
    const src = (await page.getByTestId('canvas').getAttribute('data-image-src')) ?? ''
    const imageId = Number(/\/(\d+)\?v=/.exec(src)?.[1])
    expect(imageId).toBeGreaterThan(0)
    // Main's events as a multi-second encode sends them (the demo model's encodes take milliseconds).
    app.bridge.emit('embedding', { imageId, state: 'preprocessing' })
    app.bridge.emit('embedding', { imageId, state: 'encoding', expectedMs: 3400 })
    const progress = page.getByTestId('encode-progress')
    await progress.waitFor()
    await expect.poll(() => progress.textContent()).toMatch(/Encoding the image… \d+\.\d s of about 3\.4 s/)
    await screenshot(page, '10-encoding-1280x800')
    await page.setViewportSize({ width: 1024, height: 700 })
    await screenshot(page, '10-encoding-1024x700')
    await page.setViewportSize({ width: 1280, height: 800 })
    app.bridge.emit('embedding', { imageId, state: 'ready', source: 'encoder' })
    await progress.waitFor({ state: 'detached' })
    expect(app.errors).toEqual([])
  })
})
