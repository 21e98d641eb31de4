// End to end: a whole working day of one annotator over three projects in one window — label,
// undo and redo, switch projects (Ctrl+O, the recent list), box prompts, mark done, export
// COCO and YOLO from the app and from the CLI — with every project's database read straight from its SQLite
// file after every step: the project being worked on shows exactly the step's change, and every
// other project is byte-for-byte what it was. The projects share file names, so their image
// ids and annotation ids coincide: what goes to the wrong project shows at once.
import Database from 'better-sqlite3'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { runCli } from '../helpers/cli.ts'
import { findBrowser } from '../helpers/browser.ts'
import { startBridge, type Bridge } from './bridge.ts'
import {
  BACKGROUND,
  buildRenderer,
  clickImage,
  dragImage,
  openPage,
  pixelAt,
  SCENES,
  screenshot,
  settled,
  showsImage,
  waitFor,
  writeScenes,
  type SceneImage,
} from './harness.ts'

type Key = 'A' | 'B' | 'C'

/** B and C reuse A's file names (so ids collide) on other backgrounds and objects. */
const SCENES_B: SceneImage[] = [
  {
    file: 'a-first.png',
    width: 800,
    height: 500,
    objects: [
      {
        name: 'orange-square',
        svg: '<rect x="100" y="100" width="200" height="180"/>',
        colour: '#e07b1e',
        click: [200, 190],
      },
      { name: 'teal-disc', svg: '<circle cx="560" cy="260" r="110"/>', colour: '#1e9e8c', click: [560, 260] },
    ],
  },
  {
    file: 'b-second.png',
    width: 800,
    height: 500,
    objects: [
      {
        name: 'plum-rect',
        svg: '<rect x="300" y="150" width="220" height="160"/>',
        colour: '#b0306e',
        click: [410, 230],
      },
    ],
  },
]
const SCENES_C: SceneImage[] = [
  {
    file: 'a-first.png',
    width: 800,
    height: 500,
    objects: [
      {
        name: 'indigo-rect',
        svg: '<rect x="250" y="120" width="300" height="220"/>',
        colour: '#444a9c',
        click: [400, 230],
      },
    ],
  },
]
const BACKGROUNDS: Record<Key, string> = { A: BACKGROUND, B: '#9ec5e8', C: '#c8e6c9' }
/** A corner no object of any scene covers: it shows the background of whichever picture is drawn. */
const CORNER: [number, number] = [790, 490]

interface AnnotationRow {
  id: number
  path: string
  category: string
  area: number
  segmentation: string
  updatedAt: string
}

interface DatabaseState {
  integrity: string
  annotations: AnnotationRow[]
  statuses: Record<string, string>
  categories: string[]
}

let work: string
let rendererDir: string
let bridge: Bridge
let browser: Browser
let page: Page
let errors: string[]
const folders = {} as Record<Key, string>
/** What the folder dialog answers next. */
let dialogFolder = ''
let saveTo = ''
/** Each project's database as the last step left it (null: not created yet). */
const last = new Map<Key, DatabaseState | null>()

function databaseFile(key: Key): string {
  return join(folders[key], '.sam-annotator', 'project.sqlite')
}

/** The project's database as SQLite has it, through a read-only connection of its own. */
function readDatabase(key: Key): DatabaseState | null {
  if (!existsSync(databaseFile(key))) return null
  const db = new Database(databaseFile(key), { readonly: true, fileMustExist: true })
  try {
    return {
      integrity: String(db.pragma('integrity_check', { simple: true })),
      annotations: db
        .prepare(
          `SELECT a.id, i.path, c.name AS category, a.area, a.segmentation, a.updated_at AS updatedAt
             FROM annotations a JOIN images i ON i.id = a.image_id JOIN categories c ON c.id = a.category_id
            ORDER BY a.id`,
        )
        .all() as AnnotationRow[],
      statuses: Object.fromEntries(
        (db.prepare('SELECT path, status FROM images ORDER BY path').all() as { path: string; status: string }[]).map(
          (r) => [r.path, r.status],
        ),
      ),
      categories: (db.prepare('SELECT name FROM categories ORDER BY sort_order, id').all() as { name: string }[]).map(
        (r) => r.name,
      ),
    }
  } finally {
    db.close()
  }
}

const on = (state: DatabaseState, path: string) => state.annotations.filter((a) => a.path === path)

/**
 * After a step: `changed` says what the step must have done to its project's database (polled
 * until it holds); every other project's database must be exactly as before. Each is checked
 * for integrity too.
 */
async function checkDatabases(
  step: string,
  changed: Partial<Record<Key, (state: DatabaseState) => boolean>> = {},
): Promise<void> {
  for (const [key, holds] of Object.entries(changed) as [Key, (state: DatabaseState) => boolean][]) {
    await waitFor(() => {
      const state = readDatabase(key)
      return state !== null && holds(state)
    }, `${step}: the change in project ${key}`)
  }
  for (const key of ['A', 'B', 'C'] as const) {
    const state = readDatabase(key)
    if (state !== null) expect(state.integrity, `${step}: integrity of ${key}`).toBe('ok')
    if (key in changed) last.set(key, state)
    else expect(state, `${step}: project ${key} must be untouched`).toEqual(last.get(key) ?? null)
  }
}

/** A key that should change nothing (an empty undo history): give main time to do the harm it must not do. */
async function pressAndIdle(key: string): Promise<void> {
  await page.keyboard.press(key)
  await new Promise((done) => setTimeout(done, 600))
}

const canvas = () => page.getByTestId('canvas')
const attr = async (name: string) => (await canvas().getAttribute(name)) ?? ''
const currentImage = () => page.getByTestId('image-list').locator('li.current').textContent({ timeout: 10_000 })

function imageIdOf(path: string): number {
  const row = bridge.services.projects.project?.listImages({}).find((image) => image.path === path)
  if (row === undefined) throw new Error(`${path} is not in the open project`)
  return row.id
}

/** Within 3 of each channel of the project's background colour. */
async function showsBackgroundOf(key: Key): Promise<boolean> {
  const rgb = await pixelAt(page, ...CORNER)
  const want = [1, 3, 5].map((i) => parseInt(BACKGROUNDS[key].slice(i, i + 2), 16))
  return rgb.every((v, i) => Math.abs(v - want[i]) <= 3)
}

/** Waits for the project's first picture, drawn: its file name, its URL and its pixels. */
async function showsProject(key: Key, path: string): Promise<void> {
  await expect
    .poll(() => page.locator('[data-testid="workspace"] .toolbar strong').textContent({ timeout: 10_000 }))
    .toBe(basename(folders[key]))
  await expect.poll(currentImage).toContain(path)
  await showsImage(page, imageIdOf(path))
  await expect.poll(() => showsBackgroundOf(key), { timeout: 10_000 }).toBe(true)
}

/** The scale that fits an 800x500 picture in the canvas as it is now (the renderer's 16 px margin). */
async function fittedScale(): Promise<number> {
  const box = await canvas().boundingBox()
  if (box === null) throw new Error('the canvas is not visible')
  return Math.min((box.width - 32) / 800, (box.height - 32) / 500)
}

/** The picture is fitted to the canvas; polled, since a canvas that settles its size refits a moment later. */
async function isFitted(): Promise<void> {
  await expect
    .poll(async () => Math.abs(Number(await attr('data-scale')) - (await fittedScale())), { timeout: 5_000 })
    .toBeLessThan(1e-3)
}

/** Saves the object under `click` with a point and Enter. */
async function label(click: [number, number]): Promise<void> {
  await clickImage(page, ...click)
  await settled(page, 1)
  await page.keyboard.press('Enter')
  await settled(page, 0)
}

async function openByShortcut(key: Key): Promise<void> {
  dialogFolder = folders[key]
  await page.keyboard.press('Control+o')
}

beforeAll(async () => {
  await findBrowser()
  rendererDir = await buildRenderer()
  work = mkdtempSync(join(tmpdir(), 'sam-e2e-day-'))
  for (const [key, scenes] of [
    ['A', SCENES],
    ['B', SCENES_B],
    ['C', SCENES_C],
  ] as const) {
    // C is laid out as datasets are: the project is dataset/images, and YOLO goes to dataset/.
    folders[key] = key === 'C' ? join(work, 'C-dataset', 'images') : join(work, key)
    mkdirSync(folders[key], { recursive: true })
    await writeScenes(folders[key], scenes, BACKGROUNDS[key])
    last.set(key, null)
  }
  bridge = await startBridge({
    rendererDir,
    userDataDir: join(work, 'user-data'),
    dialogs: { folder: () => dialogFolder, saveFile: () => saveTo },
  })
  ;({ browser, page, errors } = await openPage(bridge.url))
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await bridge?.close()
  if (work) rmSync(work, { recursive: true, force: true })
  if (rendererDir) rmSync(rendererDir, { recursive: true, force: true })
})

describe('a working day over three projects, the database checked after every step', () => {
  const [aFirst, aSecond] = SCENES
  const [bFirst, bSecond] = SCENES_B

  it('morning, project A: open, label two objects, undo and redo, export, zoom in', async () => {
    dialogFolder = folders.A
    await page.getByTestId('open-folder').click()
    await showsProject('A', aFirst.file)
    await isFitted()
    await checkDatabases('open A', { A: (s) => s.annotations.length === 0 && Object.keys(s.statuses).length === 2 })

    await label(aFirst.objects[0].click)
    await checkDatabases('label the blue rectangle', { A: (s) => on(s, aFirst.file).length === 1 })
    await label(aFirst.objects[2].click)
    await checkDatabases('label the green ellipse', { A: (s) => on(s, aFirst.file).length === 2 })
    await page.keyboard.press('Control+z')
    await checkDatabases('undo in A', { A: (s) => on(s, aFirst.file).length === 1 })
    await page.keyboard.press('Control+Shift+Z')
    await checkDatabases('redo in A', { A: (s) => on(s, aFirst.file).length === 2 })
    expect(await page.getByTestId('undo').isEnabled()).toBe(true)

    // An export leaves its message in the status bar; the message belongs to this project.
    saveTo = join(work, 'a-morning.coco.json')
    await page.keyboard.press('Control+e')
    await expect.poll(() => page.getByTestId('message').textContent({ timeout: 10_000 })).toContain(saveTo)
    expect((JSON.parse(readFileSync(saveTo, 'utf8')) as { annotations: unknown[] }).annotations).toHaveLength(2)
    await page.keyboard.press('Control+=')
    await page.keyboard.press('Control+=')
    expect(Number(await attr('data-scale'))).toBeGreaterThan((await fittedScale()) * 1.4)
    await checkDatabases('export, message and zoom change nothing stored')
  })

  it('project B (Ctrl+O): its own picture, fresh undo, no message, fitted; Ctrl+Z touches nothing', async () => {
    await openByShortcut('B')
    await showsProject('B', bFirst.file)
    await screenshot(page, 'day-01-project-b')
    await checkDatabases('open B', { B: (s) => s.annotations.length === 0 })
    await pressAndIdle('Control+z')
    await pressAndIdle('Control+Shift+Z')
    await checkDatabases('undo and redo with nothing to undo in B')
    expect(await page.getByTestId('undo').isDisabled()).toBe(true)
    expect(await page.getByTestId('redo').isDisabled()).toBe(true)
    expect(await page.getByTestId('message').count()).toBe(0)
    await isFitted()
  })

  it('B: label; B arms one box (the canvas says so), Escape leaves it, clicks work after it', async () => {
    await label(bFirst.objects[0].click)
    await checkDatabases('label the orange square', { B: (s) => on(s, bFirst.file).length === 1 })

    await page.keyboard.press('b')
    expect(await attr('data-tool-path')).toBe('sam.boxArmed')
    await page.getByTestId('box-hint').waitFor()
    expect(await page.getByTestId('box-button').getAttribute('class')).toMatch(/\bon\b/)
    await page.keyboard.press('Escape')
    expect(await attr('data-tool-path')).toBe('sam.idle')
    expect(await page.getByTestId('box-hint').count()).toBe(0)
    await clickImage(page, ...bFirst.objects[1].click)
    await settled(page, 1)
    expect(await attr('data-tool-path')).toBe('sam.prompting')
    await page.keyboard.press('Escape')
    await settled(page, 0)

    // One box around the teal disc, saved; the tool is back to points afterwards.
    await page.keyboard.press('b')
    await dragImage(page, [440, 140], [680, 380])
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="canvas"]')?.getAttribute('data-preview-area') ?? 0) > 0,
    )
    expect(await attr('data-tool-path')).toBe('sam.prompting')
    await settled(page, 0)
    await page.keyboard.press('Enter')
    await checkDatabases('a box-prompted disc', { B: (s) => on(s, bFirst.file).length === 2 })
    const disc = last.get('B')!.annotations.at(-1)!
    expect(disc.area).toBeGreaterThan(0.9 * Math.PI * 110 * 110)
    expect(disc.area).toBeLessThan(1.1 * Math.PI * 110 * 110)
    expect(await attr('data-tool-path')).toBe('sam.idle')
    await clickImage(page, ...bFirst.objects[0].click)
    await settled(page, 1)
    expect(await attr('data-points')).toBe('1')
    await page.keyboard.press('Escape')
    await checkDatabases('a click after the box is a point again')
  })

  it('B: mark done, next image, label, export COCO: the file is the database', async () => {
    await page.keyboard.press('Control+d')
    await checkDatabases('mark B/a-first done', { B: (s) => s.statuses[bFirst.file] === 'done' })
    await page.keyboard.press('d')
    await expect.poll(currentImage).toContain(bSecond.file)
    await showsImage(page, imageIdOf(bSecond.file))
    await label(bSecond.objects[0].click)
    await checkDatabases('label the plum rectangle', { B: (s) => on(s, bSecond.file).length === 1 })

    saveTo = join(work, 'b-morning.coco.json')
    await page.getByTestId('export-coco').click()
    await page.getByTestId('export-result').waitFor({ timeout: 20_000 })
    const coco = JSON.parse(readFileSync(saveTo, 'utf8')) as {
      annotations: { id: number; image_id: number }[]
      images: { id: number; file_name: string }[]
    }
    const state = readDatabase('B')!
    expect(coco.annotations.map((a) => a.id)).toEqual(state.annotations.map((a) => a.id))
    const fileOf = new Map(coco.images.map((i) => [i.id, i.file_name]))
    expect(coco.annotations.map((a) => fileOf.get(a.image_id))).toEqual(state.annotations.map((a) => a.path))
    await checkDatabases('export B')
  })

  it('back to A from the recent list: A as it was, fresh undo; Ctrl+Z deletes nothing anywhere', async () => {
    await page.getByRole('button', { name: 'close project' }).click()
    await page.getByTestId('welcome').waitFor()
    await checkDatabases('close B')
    await page.getByTestId('recent').getByRole('button', { name: /^A / }).click()
    await showsProject('A', aFirst.file)
    await expect.poll(() => page.locator('[data-testid="annotation-list"] li').count()).toBe(2)
    for (let i = 0; i < 3; i++) await pressAndIdle('Control+z')
    await checkDatabases('undo with a fresh history in A')
    expect(await page.getByTestId('undo').isDisabled()).toBe(true)
    expect(await page.getByTestId('message').count()).toBe(0)
    await isFitted()
    await screenshot(page, 'day-02-back-to-a')
  })

  it('A: delete, undo, redo, undo; next image, label', async () => {
    const [blue] = last.get('A')!.annotations
    await page.getByTestId('annotation-list').locator(`[data-annotation-id="${blue.id}"]`).click()
    await page.keyboard.press('Delete')
    await checkDatabases('delete the blue rectangle', {
      A: (s) => !s.annotations.some((a) => a.id === blue.id) && s.annotations.length === 1,
    })
    await page.keyboard.press('Control+z')
    await checkDatabases('undo the deletion', {
      A: (s) => s.annotations.length === 2 && s.annotations.some((a) => a.segmentation === blue.segmentation),
    })
    await page.keyboard.press('Control+Shift+Z')
    await checkDatabases('redo the deletion', { A: (s) => s.annotations.length === 1 })
    await page.keyboard.press('Control+z')
    await checkDatabases('undo it again', { A: (s) => s.annotations.length === 2 })
    await page.keyboard.press('d')
    await expect.poll(currentImage).toContain(aSecond.file)
    await showsImage(page, imageIdOf(aSecond.file))
    await label(aSecond.objects[0].click)
    await checkDatabases('label the purple disc', { A: (s) => on(s, aSecond.file).length === 1 })
  })

  it('afternoon, project C: label, undo, redo within C only', async () => {
    await openByShortcut('C')
    await showsProject('C', SCENES_C[0].file)
    expect(await page.getByTestId('undo').isDisabled()).toBe(true)
    await checkDatabases('open C', { C: (s) => s.annotations.length === 0 })
    await label(SCENES_C[0].objects[0].click)
    await checkDatabases('label the indigo rectangle', { C: (s) => s.annotations.length === 1 })
    await page.keyboard.press('Control+z')
    await checkDatabases('undo in C', { C: (s) => s.annotations.length === 0 })
    await page.keyboard.press('Control+Shift+Z')
    await checkDatabases('redo in C', { C: (s) => s.annotations.length === 1 })
  })

  it('C: YOLO from the app into its .sam-annotator is refused; into dataset/ it writes labels beside the images', async () => {
    const image = join(folders.C, SCENES_C[0].file)
    const pixels = readFileSync(image)
    dialogFolder = join(folders.C, '.sam-annotator')
    await page.getByTestId('export-yolo').click()
    await expect
      .poll(() => page.getByTestId('message').textContent({ timeout: 10_000 }))
      .toMatch(/inside the project's data folder.*choose another output folder/)
    expect(existsSync(join(folders.C, '.sam-annotator', 'labels'))).toBe(false)
    await checkDatabases('YOLO into .sam-annotator refused')

    const dataset = join(work, 'C-dataset')
    dialogFolder = dataset
    await page.getByTestId('export-yolo').click()
    await expect.poll(() => page.getByTestId('message').textContent({ timeout: 10_000 })).toContain('labels only')
    expect(readFileSync(image).equals(pixels)).toBe(true)
    expect(lstatSync(image).isFile()).toBe(true)
    expect(
      readFileSync(join(dataset, 'labels', 'a-first.txt'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1)
    expect(readFileSync(join(dataset, 'data.yaml'), 'utf8')).toContain('train: images')
    await checkDatabases('YOLO into dataset/')
  })

  it('B again: its first image is done, so it opens on the second; nothing to undo; the same export', async () => {
    await openByShortcut('B')
    await showsProject('B', bSecond.file)
    for (let i = 0; i < 2; i++) await pressAndIdle('Control+z')
    await checkDatabases('undo with a fresh history in B')
    expect(await page.getByTestId('undo').isDisabled()).toBe(true)
    saveTo = join(work, 'b-evening.coco.json')
    await page.getByTestId('export-coco').click()
    await page.getByTestId('export-result').waitFor({ timeout: 20_000 })
    const ids = (file: string) =>
      (JSON.parse(readFileSync(file, 'utf8')) as { annotations: { id: number }[] }).annotations.map((a) => a.id)
    expect(ids(saveTo)).toEqual(ids(join(work, 'b-morning.coco.json')))
    await checkDatabases('export B again')
  })

  it('evening: A exported from the command line while B is open; then the window closes the project', async () => {
    const yolo = join(work, 'a-yolo')
    const result = await runCli(['export', folders.A, '--yolo', yolo])
    expect(result.code, result.stderr).toBe(0)
    const labels = readdirSync(join(yolo, 'labels')).sort()
    expect(labels).toEqual(['a-first.txt', 'b-second.txt'])
    const lines = (name: string) =>
      readFileSync(join(yolo, 'labels', name), 'utf8')
        .trim()
        .split('\n').length
    const a = readDatabase('A')!
    expect(lines('a-first.txt')).toBe(on(a, aFirst.file).length)
    expect(lines('b-second.txt')).toBe(on(a, aSecond.file).length)
    await checkDatabases('CLI export of A')
    await page.getByRole('button', { name: 'close project' }).click()
    await page.getByTestId('welcome').waitFor()
    await checkDatabases('close B at the end of the day')
    expect(last.get('A')!.annotations).toHaveLength(3)
    expect(last.get('B')!.annotations).toHaveLength(3)
    expect(last.get('C')!.annotations).toHaveLength(1)
    expect(errors).toEqual([])
  })
})
