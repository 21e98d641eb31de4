// End to end, the look a first-time user judged "a prototype": every screen in both themes at
// 1280×800 and 1024×700 (saved as artifacts look-*.png), the toolbar and status bar one line high,
// nothing in the toolbar cut off at 1024 px, the status bar in words (no 'sam.' names) with the
// zoom, the light theme light, the help grouped by task, and the first-run hint until a save.
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { clickImage, SCENES, screenshot, settled, startAppForSuite, waitFor, type E2E } from './harness.ts'

let app: E2E
let page: Page

startAppForSuite((started) => {
  app = started
  page = started.page
})

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
] as const
const THEMES = ['dark', 'light'] as const

/** Shoots the screen in both themes at both sizes, running `check` at each. */
async function everyLook(
  name: string,
  check: (theme: (typeof THEMES)[number], size: (typeof SIZES)[number]) => Promise<void> = async () => {},
): Promise<void> {
  for (const theme of THEMES) {
    await page.emulateMedia({ colorScheme: theme })
    for (const size of SIZES) {
      await page.setViewportSize(size)
      // Two frames: the resize and the theme have reached layout and the canvas.
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))
      await check(theme, size)
      await screenshot(page, `look-${name}-${theme}-${size.width}x${size.height}`)
    }
  }
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.setViewportSize(SIZES[0])
}

/** Relative luminance (0 black … 1 white) of a CSS rgb() colour. */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => Number(v) / 255)
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

async function backgroundLuminance(): Promise<number> {
  return luminance(await page.evaluate(() => getComputedStyle(document.body).backgroundColor))
}

async function themeHolds(theme: 'dark' | 'light'): Promise<void> {
  const light = await backgroundLuminance()
  if (theme === 'light') expect(light).toBeGreaterThan(0.85)
  else expect(light).toBeLessThan(0.15)
}

function project() {
  const opened = app.bridge.services.projects.project
  if (opened === null) throw new Error('no project is open')
  return opened
}

describe('the look, in both themes and two window sizes', () => {
  it('the welcome screen follows the OS theme', async () => {
    await page.getByTestId('welcome').waitFor()
    await everyLook('welcome-empty', async (theme) => themeHolds(theme))
  })

  it('opens the project with a first-run hint on the canvas', async () => {
    await page.getByTestId('open-folder').click()
    await page.getByTestId('workspace').waitFor()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="canvas"]')?.getAttribute('data-image-src') !== '',
    )
    const hint = page.getByTestId('first-run-hint')
    await hint.waitFor()
    expect(await hint.textContent()).toMatch(/Space.*drag/)
    await everyLook('first-run', async (theme) => themeHolds(theme))
  })

  it('the hint goes once the first annotation is saved; the status bar says the tool and its state in words', async () => {
    const [blueRect, , greenEllipse] = SCENES[0].objects
    await clickImage(page, ...blueRect.click)
    await settled(page, 1)
    // Placing points moves the hint aside.
    expect(await page.getByTestId('first-run-hint').count()).toBe(0)
    expect(await page.getByTestId('tool-state').textContent()).toContain('Enter saves')
    await page.keyboard.press('Enter')
    await waitFor(() => project().listAnnotations(1).length + project().listAnnotations(2).length === 1, 'the save')
    await clickImage(page, ...greenEllipse.click)
    await settled(page, 1)
    await page.keyboard.press('Enter')
    await settled(page, 0)
    expect(await page.getByTestId('first-run-hint').count()).toBe(0)
    const status = (await page.getByTestId('status-bar').textContent()) ?? ''
    expect(status).not.toMatch(/\b(sam|select|polygon)\.[a-zA-Z]/)
    expect(status).toContain('Segment')
    expect(status).toMatch(/click an object/)
    expect(await page.getByTestId('zoom').textContent()).toMatch(/^\d+%$/)
  })

  it('the workspace: toolbar and status bar one line high at 1280×800, nothing cut off at 1024×700', async () => {
    await everyLook('workspace', async (theme, size) => {
      await themeHolds(theme)
      const toolbar = await page.getByTestId('toolbar').boundingBox()
      const status = await page.getByTestId('status-bar').boundingBox()
      // One line: a control's height plus padding, never two rows.
      expect(toolbar?.height).toBeLessThanOrEqual(40)
      expect(status?.height).toBeLessThanOrEqual(30)
      const overflowing = await page.getByTestId('toolbar').evaluate((bar) => {
        const edge = bar.getBoundingClientRect()
        return [...bar.querySelectorAll('button, strong, [role="group"]')]
          .filter((el) => {
            const box = el.getBoundingClientRect()
            return box.right > edge.right + 0.5 || box.width === 0 || el.scrollWidth > el.clientWidth + 1
          })
          .map((el) => el.getAttribute('aria-label') ?? el.textContent)
      })
      // The project name may be shortened with an ellipsis; nothing else may be cut.
      expect(overflowing.filter((what) => what !== SCENES[0].file)).toEqual([])
      if (size.width === 1024) {
        // Narrow: the secondary buttons are icons with their names in tooltips.
        expect(await page.getByRole('button', { name: 'close project' }).isVisible()).toBe(true)
      }
    })
  })

  it('a message in the status bar', async () => {
    await clickImage(page, ...SCENES[0].objects[1].click)
    await settled(page, 1)
    await page.keyboard.press('+')
    await expect.poll(() => page.getByTestId('message').textContent()).toMatch(/Select an annotation first/)
    await everyLook('message', async () => {
      expect(await page.getByTestId('message').isVisible()).toBe(true)
      expect((await page.getByTestId('status-bar').boundingBox())?.height).toBeLessThanOrEqual(30)
    })
    await page.keyboard.press('Escape')
    await settled(page, 0)
  })

  it('the help is grouped by task, the nine category keys one row', async () => {
    await page.keyboard.press('Shift+?')
    const help = page.getByTestId('help')
    await help.waitFor()
    const headings = await help.locator('h3').allTextContents()
    expect(headings).toEqual(['Mouse', 'Segment', 'Edit', 'Navigate', 'View', 'Project'])
    const text = (await help.textContent()) ?? ''
    expect(text).toContain('1–9')
    expect(text).not.toMatch(/Category \d/)
    expect(text).toContain('Next Candidate Mask')
    await everyLook('help', async (theme) => themeHolds(theme))
    await page.keyboard.press('Escape')
    await expect.poll(() => help.count()).toBe(0)
  })

  it('the welcome screen with a recent project', async () => {
    await page.getByRole('button', { name: 'close project' }).click()
    await page.getByTestId('recent').waitFor()
    await everyLook('welcome', async (theme) => {
      await themeHolds(theme)
      // The recent path is readable: its colour stands apart from the row behind it.
      const contrast = await page
        .getByTestId('recent')
        .locator('.path')
        .first()
        .evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el.closest('ul')!).backgroundColor])
      expect(Math.abs(luminance(contrast[0]) - luminance(contrast[1]))).toBeGreaterThan(0.35)
    })
    expect(app.errors).toEqual([])
  })
})
