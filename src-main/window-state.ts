// Remembers the main window's size, position and maximised state between runs (a small JSON in
// user data). Restoring clamps the bounds onto a display that exists now, so a window last
// seen on an unplugged monitor comes back on screen. Pure functions plus file I/O; no Electron.
import { join } from 'node:path'
import { readJsonFile, writeJsonFile } from './services/json-file.ts'

export const WINDOW_STATE_FILE = 'window-state.json'

export interface Rectangle {
  x: number
  y: number
  width: number
  height: number
}

export interface WindowState {
  bounds: Rectangle
  maximized: boolean
}

export const DEFAULT_SIZE = { width: 1280, height: 800 }
export const MIN_SIZE = { width: 640, height: 480 }

function isRectangle(value: unknown): value is Rectangle {
  const r = value as Partial<Rectangle> | null
  return [r?.x, r?.y, r?.width, r?.height].every((v) => typeof v === 'number' && Number.isFinite(v))
}

export function parseWindowState(value: unknown): WindowState | null {
  const state = value as Partial<WindowState> | null
  if (!isRectangle(state?.bounds)) return null
  return { bounds: state.bounds, maximized: state.maximized === true }
}

/**
 * Where the window opens: the saved bounds, shrunk to fit and moved onto the display they
 * overlap most (or the first display when they overlap none). No saved state: default size,
 * position left to the window manager (x and y undefined).
 */
export function restoreBounds(
  saved: WindowState | null,
  displays: readonly Rectangle[],
): Partial<Rectangle> & { width: number; height: number } {
  if (saved === null || displays.length === 0) return { ...DEFAULT_SIZE }
  const overlap = (a: Rectangle, b: Rectangle): number =>
    Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
    Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y))
  const best = displays.reduce((a, b) => (overlap(saved.bounds, b) > overlap(saved.bounds, a) ? b : a))
  const width = Math.round(Math.min(Math.max(saved.bounds.width, MIN_SIZE.width), best.width))
  const height = Math.round(Math.min(Math.max(saved.bounds.height, MIN_SIZE.height), best.height))
  const x = Math.round(Math.min(Math.max(saved.bounds.x, best.x), best.x + best.width - width))
  const y = Math.round(Math.min(Math.max(saved.bounds.y, best.y), best.y + best.height - height))
  return { x, y, width, height }
}

export function loadWindowState(userDataDir: string): WindowState | null {
  return parseWindowState(readJsonFile(join(userDataDir, WINDOW_STATE_FILE)))
}

export function saveWindowState(userDataDir: string, state: WindowState): void {
  try {
    writeJsonFile(join(userDataDir, WINDOW_STATE_FILE), state)
  } catch (err) {
    console.error('[window-state] cannot save:', err)
  }
}
