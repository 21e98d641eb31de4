// The Electron-free pieces of main: window bounds remembered and put back on a screen that
// exists, the recent list, the folder argument of a (second) launch, the menu built from the
// keymap with the renderer's accelerators, and the keymap matcher the renderer will use.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { folderArgument } from '../../../src-main/argv.ts'
import { buildMenuTemplate, commandItems } from '../../../src-main/menu.ts'
import { MAX_RECENT, RecentProjects, RECENT_FILE } from '../../../src-main/services/recent-projects.ts'
import {
  DEFAULT_SIZE,
  loadWindowState,
  restoreBounds,
  saveWindowState,
  WINDOW_STATE_FILE,
} from '../../../src-main/window-state.ts'
import { isBareKey, KEYMAP, matchesAccelerator, parseAccelerator } from '../../../src-preload/contract/keymap.ts'

const temps: string[] = []
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sam-shell-main-'))
  temps.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('window state', () => {
  const screen = { x: 0, y: 0, width: 1920, height: 1040 }
  const right = { x: 1920, y: 0, width: 1280, height: 1000 }

  it('round-trips through user data and survives a damaged file', () => {
    const dir = temp()
    expect(loadWindowState(dir)).toBeNull()
    saveWindowState(dir, { bounds: { x: 100, y: 50, width: 1000, height: 700 }, maximized: true })
    expect(loadWindowState(dir)).toEqual({ bounds: { x: 100, y: 50, width: 1000, height: 700 }, maximized: true })
    writeFileSync(join(dir, WINDOW_STATE_FILE), '{"bounds": {"x": "a"')
    expect(loadWindowState(dir)).toBeNull()
  })

  it('restores onto the display the window was on, clamped to it', () => {
    expect(restoreBounds(null, [screen])).toEqual(DEFAULT_SIZE)
    const onRight = { bounds: { x: 2000, y: 100, width: 1000, height: 700 }, maximized: false }
    expect(restoreBounds(onRight, [screen, right])).toEqual({ x: 2000, y: 100, width: 1000, height: 700 })
    // The right monitor was unplugged: back onto the remaining one, whole.
    expect(restoreBounds(onRight, [screen])).toEqual({ x: 920, y: 100, width: 1000, height: 700 })
    // Larger than the screen: shrunk to it; smaller than the minimum: grown.
    expect(
      restoreBounds({ bounds: { x: -50, y: -50, width: 5000, height: 3000 }, maximized: false }, [screen]),
    ).toEqual({ x: 0, y: 0, width: 1920, height: 1040 })
    expect(
      restoreBounds({ bounds: { x: 10, y: 10, width: 50, height: 50 }, maximized: false }, [screen]),
    ).toMatchObject({ width: 640, height: 480 })
  })
})

describe('recent projects', () => {
  it('keeps the most recent first, without duplicates, at most MAX_RECENT, across restarts', () => {
    const dir = temp()
    const folders = Array.from({ length: MAX_RECENT + 2 }, (_, i) => {
      const folder = join(dir, `photos-${i}`)
      mkdirSync(folder)
      return folder
    })
    const recent = new RecentProjects(dir)
    folders.forEach((folder, i) => recent.add(folder, new Date(Date.UTC(2026, 0, 1 + i))))
    recent.add(folders[3] as string)
    const again = new RecentProjects(dir)
    const list = again.list()
    expect(list).toHaveLength(MAX_RECENT)
    expect(list[0]).toMatchObject({ folder: folders[3], name: 'photos-3', exists: true })
    expect(list.filter((entry) => entry.folder === folders[3])).toHaveLength(1)
    expect(again.has(folders[0] as string)).toBe(false) // the oldest fell off
    rmSync(folders[5] as string, { recursive: true })
    expect(again.list().find((entry) => entry.folder === folders[5])?.exists).toBe(false)
    again.remove(folders[5] as string)
    expect(new RecentProjects(dir).has(folders[5] as string)).toBe(false)
  })

  it('starts empty from a damaged file', () => {
    const dir = temp()
    writeFileSync(join(dir, RECENT_FILE), '[{"folder": 3}, "x", {"folder": "/a", "openedAt": "2026-01-01"}')
    expect(new RecentProjects(dir).list()).toEqual([])
    writeFileSync(join(dir, RECENT_FILE), '[{"folder": 3}, "x", {"folder": "/a", "openedAt": "2026-01-01"}]')
    expect(new RecentProjects(dir).list().map((entry) => entry.folder)).toEqual(['/a'])
  })
})

describe('folder argument of a launch', () => {
  it('finds the folder after the executable (packaged) or the app path (electron .)', () => {
    const dir = temp()
    const photos = join(dir, 'photos')
    mkdirSync(photos)
    writeFileSync(join(dir, 'notes.txt'), 'x')
    expect(folderArgument(['/opt/sam/sam-annotator', photos], { packaged: true, cwd: '/' })).toBe(photos)
    expect(folderArgument(['/opt/sam/sam-annotator', 'photos'], { packaged: true, cwd: dir })).toBe(photos)
    // Unpacked: argv[1] is the app itself (here a real folder) and must not be taken.
    expect(folderArgument(['electron', dir], { packaged: false, cwd: '/' })).toBeNull()
    expect(
      folderArgument(
        ['electron', 'out/main/index.js', photos, '--allow-file-access-from-files', '--original-process-start-time=1'],
        { packaged: false, cwd: '/' },
      ),
    ).toBe(photos)
    expect(
      folderArgument(['/opt/sam/sam-annotator', join(dir, 'notes.txt'), '/no/such/folder'], {
        packaged: true,
        cwd: '/',
      }),
    ).toBeNull()
  })
})

describe('menu and keymap', () => {
  it('puts every keymap command in its menu with the same accelerator', () => {
    for (const platform of ['linux', 'darwin', 'win32']) {
      const items = commandItems(buildMenuTemplate({ platform, devTools: false }))
      const inMenus = KEYMAP.filter((entry) => entry.menu !== null)
      expect(items.map((item) => item.id).sort()).toEqual(inMenus.map((entry) => entry.id).sort())
      for (const entry of inMenus) {
        const item = items.find((candidate) => candidate.id === entry.id)
        expect(item?.accelerator ?? null, entry.id).toBe(entry.accelerator)
        expect(item?.label).toBe(entry.label)
      }
    }
  })

  it('shows bare-key shortcuts without registering them, so typing in a field is safe', () => {
    const items = commandItems(buildMenuTemplate({ platform: 'linux', devTools: false }))
    const next = items.find((item) => item.id === 'image.next')
    expect(next).toMatchObject({ accelerator: 'D', registerAccelerator: false })
    const open = items.find((item) => item.id === 'project.open')
    expect(open?.accelerator).toBe('CmdOrCtrl+O')
    expect(open?.registerAccelerator).toBeUndefined()
  })

  it('has unique ids and accelerators, all parseable', () => {
    expect(new Set(KEYMAP.map((entry) => entry.id)).size).toBe(KEYMAP.length)
    const accelerators = KEYMAP.flatMap((entry) => (entry.accelerator === null ? [] : [entry.accelerator]))
    expect(new Set(accelerators.map((a) => JSON.stringify(parseAccelerator(a)))).size).toBe(accelerators.length)
  })

  it('matches key presses the way the menu does', () => {
    const press = (
      key: string,
      mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {},
    ) => ({
      key,
      ctrlKey: false,
      metaKey: false,
      shiftKey: false,
      altKey: false,
      ...mods,
    })
    expect(matchesAccelerator('CmdOrCtrl+O', press('o', { ctrlKey: true }), false)).toBe(true)
    expect(matchesAccelerator('CmdOrCtrl+O', press('o', { metaKey: true }), true)).toBe(true)
    expect(matchesAccelerator('CmdOrCtrl+O', press('o', { ctrlKey: true }), true)).toBe(false)
    expect(matchesAccelerator('CmdOrCtrl+Shift+Z', press('Z', { ctrlKey: true, shiftKey: true }), false)).toBe(true)
    expect(matchesAccelerator('CmdOrCtrl+Z', press('z', { ctrlKey: true, shiftKey: true }), false)).toBe(false)
    expect(matchesAccelerator('D', press('d'), false)).toBe(true)
    expect(matchesAccelerator('D', press('d', { ctrlKey: true }), false)).toBe(false)
    expect(matchesAccelerator('Escape', press('Escape'), false)).toBe(true)
    expect(matchesAccelerator('CmdOrCtrl+=', press('=', { ctrlKey: true }), false)).toBe(true)
    expect(parseAccelerator('CmdOrCtrl++')).toMatchObject({ key: '+', cmdOrCtrl: true })
    expect(isBareKey('Delete')).toBe(true)
    expect(isBareKey('CmdOrCtrl+D')).toBe(false)
    expect(() => parseAccelerator('Hyper+X')).toThrow(/unknown modifier/)
  })
})
