// End to end: the commands around labelling, in Chromium over the loopback bridge against the
// real core. Import COCO from Ctrl+I and from the menu (main's `menu` event), with the CLI's
// own summary for the same file as the reference; Rescan Folder after a file appears; the ×
// that forgets a recent project. Only the native dialogs are stubbed (a process boundary).
// Screens that changed are saved at two window sizes (the app has one, dark, theme).
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { pixelAt, SCENES, screenshot, startAppForSuite, waitFor, writeScenes, type E2E } from './harness.ts'
import { runCli } from '../helpers/cli.ts'

let app: E2E
let page: Page

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
]

/** The page at each window size, then back to the first. */
async function screenshots(name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size)
    await screenshot(page, `${name}-${size.width}x${size.height}`)
  }
  await page.setViewportSize(SIZES[0])
}

function project() {
  const opened = app.bridge.services.projects.project
  if (opened === null) throw new Error('no project is open')
  return opened
}

const [first, second] = SCENES
const [blueRect] = first.objects

/** A COCO file from elsewhere: one label on each project image, one on an image this project lacks. */
function writeCoco(file: string): void {
  const rect = (x0: number, y0: number, x1: number, y1: number) => [[x0, y0, x1, y0, x1, y1, x0, y1]]
  const coco = {
    images: [
      { id: 1, file_name: first.file, width: first.width, height: first.height },
      { id: 2, file_name: second.file, width: second.width, height: second.height },
      { id: 3, file_name: 'elsewhere/ghost.png', width: 640, height: 480 },
    ],
    categories: [{ id: 7, name: 'imported-thing' }],
    annotations: [
      {
        id: 1,
        image_id: 1,
        category_id: 7,
        segmentation: rect(60, 60, 300, 260),
        bbox: [60, 60, 240, 200],
        area: 48000,
        iscrowd: 0,
      },
      {
        id: 2,
        image_id: 2,
        category_id: 7,
        segmentation: rect(280, 130, 520, 370),
        bbox: [280, 130, 240, 240],
        area: 57600,
        iscrowd: 0,
      },
      {
        id: 3,
        image_id: 3,
        category_id: 7,
        segmentation: rect(10, 10, 50, 50),
        bbox: [10, 10, 40, 40],
        area: 1600,
        iscrowd: 0,
      },
    ],
  }
  writeFileSync(file, JSON.stringify(coco))
}

/** What the CLI prints for `import --coco file` into a copy of the project's images: stdout lines, then stderr lines. */
async function cliImport(copy: string, file: string): Promise<string[]> {
  const result = await runCli(['import', copy, '--coco', file])
  expect(result.code, result.stderr).toBe(0)
  return [...result.stdout.split('\n'), ...result.stderr.split('\n')].filter((line) => line !== '')
}

async function shownSummary(): Promise<string[]> {
  return page.getByTestId('import-result').locator('li').allTextContents()
}

startAppForSuite((started) => {
  app = started
  page = started.page
})

describe('project commands in Chromium against the real core', () => {
  const cocoFile = () => join(app.work, 'from-elsewhere.coco.json')
  const cliCopy = () => join(app.work, 'cli-copy')

  it('opens the project', async () => {
    await page.getByTestId('open-folder').click()
    await page.getByTestId('workspace').waitFor()
    await expect.poll(() => page.locator('[data-testid="image-list"] li').count()).toBe(2)
    // An import matches images by size: wait until main has read both headers.
    await waitFor(
      () =>
        project()
          .listImages({})
          .every((row) => row.width !== null),
      'both image headers',
    )
    expect(app.errors).toEqual([])
  })

  it('Ctrl+I imports a COCO file: its labels are on the canvas and in the lists, the summary is the CLI’s', async () => {
    writeCoco(cocoFile())
    mkdirSync(cliCopy())
    for (const scene of SCENES) copyFileSync(join(app.folder, scene.file), join(cliCopy(), scene.file))
    const expected = await cliImport(cliCopy(), cocoFile())
    expect(expected[0]).toBe(`imported 2 annotation(s) on 2 image(s) from ${cocoFile()}`)
    expect(expected).toContain('new categories: imported-thing')
    expect(expected).toContain(
      '  elsewhere/ghost.png: no image with this path (or this unique file name) in the project',
    )

    const untinted = await pixelAt(page, ...blueRect.click)
    app.openFile = cocoFile()
    await page.keyboard.press('Control+i')
    await page.getByTestId('import-result').waitFor()
    expect(await shownSummary()).toEqual(expected)
    await expect.poll(() => page.getByTestId('message').textContent()).toBe(expected[0])
    // Reloaded: the new category, the current image's annotation, every image's count and status.
    await expect.poll(() => page.getByTestId('categories').textContent()).toContain('imported-thing')
    await expect.poll(() => page.locator('[data-testid="annotation-list"] li').count()).toBe(1)
    await expect.poll(() => page.locator('[data-testid="image-list"] .count').allTextContents()).toEqual(['1', '1'])
    await expect
      .poll(() =>
        page
          .locator('[data-testid="image-list"] .status')
          .evaluateAll((marks) => marks.map((m) => m.getAttribute('title'))),
      )
      .toEqual(['in_progress', 'in_progress'])
    // Drawn: the imported rectangle covers the blue one, tinted in its category's colour.
    await expect.poll(() => pixelAt(page, ...blueRect.click)).not.toEqual(untinted)
    const rows = project().listImages({})
    expect(project().listAnnotations(rows.find((r) => r.path === first.file)!.id)).toHaveLength(1)
    // Selected, so the screenshot shows its outline and vertices over the rectangle it labels.
    await page.locator('[data-testid="annotation-list"] button.name').first().click()
    await screenshots('10-import-summary')
  })

  it('File › Import COCO… (main’s menu event) again: nothing doubles, and the summary is again the CLI’s', async () => {
    const expected = await cliImport(cliCopy(), cocoFile())
    expect(expected).toContain('2 annotation(s) were already in the project')
    app.bridge.emit('menu', { command: 'import.coco' })
    await expect.poll(shownSummary).toEqual(expected)
    await expect.poll(() => page.locator('[data-testid="annotation-list"] li').count()).toBe(1)
    const total = project()
      .listImages({})
      .reduce((n, row) => n + project().listAnnotations(row.id).length, 0)
    expect(total).toBe(2)
  })

  it('a cancelled open-file dialog changes nothing', async () => {
    app.openFile = null
    const before = await shownSummary()
    await page.keyboard.press('Control+i')
    await expect.poll(() => page.getByTestId('import-progress').count()).toBe(0)
    expect(await shownSummary()).toEqual(before)
  })

  it('Rescan folder: a file added to the folder joins the list; the current image stays current', async () => {
    const current = await page.locator('[data-testid="image-list"] li.current .name').textContent()
    // Sorts first: the rescan puts it before the image being shown.
    await writeScenes(app.folder, [{ ...second, file: '0-new.png' }])
    await page.keyboard.press('F5')
    await expect.poll(() => page.locator('[data-testid="image-list"] li').count()).toBe(3)
    await expect
      .poll(() => page.getByTestId('scan-result').textContent())
      .toBe('Rescanned: 3 image(s) found; 1 added, 0 missing, 0 relinked')
    expect(await page.locator('[data-testid="image-list"] li .name').allTextContents()).toEqual([
      '0-new.png',
      first.file,
      second.file,
    ])
    expect(await page.locator('[data-testid="image-list"] li.current .name').textContent()).toBe(current)
    expect(await page.locator('[data-testid="annotation-list"] li').count()).toBe(1)
    await screenshots('11-rescan')
    // The button does the same; nothing new the second time.
    rmSync(join(app.folder, '0-new.png'))
    await page.getByTestId('rescan').click()
    await expect
      .poll(() => page.getByTestId('scan-result').textContent())
      .toBe('Rescanned: 2 image(s) found; 0 added, 1 missing, 0 relinked')
    await expect
      .poll(() => page.locator('[data-testid="image-list"] li.broken .name').allTextContents())
      .toEqual(['0-new.png'])
  })

  it('the welcome screen’s × forgets a recent project, on screen and in main', async () => {
    await page.getByRole('button', { name: 'close project' }).click()
    await page.getByTestId('welcome').waitFor()
    await expect.poll(() => page.getByTestId('forget-recent').count()).toBe(1)
    await screenshots('12-welcome-recent')
    await page.getByTestId('forget-recent').click()
    await expect.poll(() => page.getByTestId('recent').count()).toBe(0)
    expect(app.bridge.services.projects.recentProjects()).toEqual([])
    await screenshots('13-welcome-forgotten')
    expect(app.errors).toEqual([])
  })
})
