// The `project` domain: opening an image folder as a project (from a dialog, a recent entry or
// the command line), the recent list, and what the open project holds.
// A renderer cannot open an arbitrary path: `open` accepts only folders on the recent list, so
// a compromised page cannot make main create project files in a folder the user never chose.
import { z } from 'zod'
import { method, NO_ARGUMENT, result } from './define.ts'
import { absolutePath } from './schemas.ts'

export interface ProjectCounts {
  images: number
  missing: number
  unreadable: number
  annotations: number
  /** Every category in display order, zero counts included. */
  perCategory: { name: string; count: number }[]
}

/** Something the scan found but could not list as an image, and why. */
export interface ScanSkipped {
  /**
   * Relative to the folder, '/' separators. Bytes of a name that are not valid UTF-8 are
   * written as `\xFF`, so the user can find the file (it cannot be named exactly as text).
   */
  path: string
  /** 'name-not-utf8': a file or folder name that is not valid UTF-8; the others: read errors. */
  reason: 'name-not-utf8' | 'unreadable-folder' | 'unreadable-file'
  /** In words, e.g. "cannot read the folder (permission denied); its images are not listed". */
  detail: string
}

/** What one scan of the folder found. */
export interface ScanSummary {
  /** Image files found on disk by this scan. */
  found: number
  /** Rows inserted for files seen for the first time. */
  added: number
  /** Rows newly marked missing by this scan. */
  missing: number
  /** Missing rows whose file came back at the same path. */
  returned: number
  /** Rows re-linked to a renamed or moved file (id and annotations kept, path updated). */
  relinked: number
  /** Files whose size or modification time changed: their header is read again. */
  changed: number
  /** Images whose header is still being read in the background (progress events follow). */
  pendingHeaders: number
  /** What the scan could not list (natural order of path); nothing about them is stored. */
  skipped: ScanSkipped[]
  durationMs: number
}

export interface ProjectSummary {
  /**
   * Names this open of the project: a new one each time a project is opened (the same folder
   * reopened too), so the renderer knows when its undo history, view and images are stale.
   */
  openId: string
  /** Absolute, real path of the image folder. */
  folder: string
  /** The folder's base name, for titles. */
  name: string
  /** Where the database lives: in the folder, or in user data when the folder is read-only. */
  location: 'folder' | 'user-data'
  /** Set when the project lives in user data: says where and why. */
  notice: string | null
  counts: ProjectCounts
  /** The scan done when the project was opened or rescanned. */
  scan: ScanSummary | null
}

export interface RecentProject {
  folder: string
  name: string
  /** ISO 8601, UTC. */
  openedAt: string
  /** False when the folder is gone (unplugged drive, moved): the UI greys it out. */
  exists: boolean
}

export const project = {
  /** Opens a folder from the recent list (the only paths a renderer may name). */
  open: method(z.strictObject({ folder: absolutePath }), result<ProjectSummary>()),
  /** Asks the user for a folder; null when the dialog was cancelled. */
  openDialog: method(NO_ARGUMENT, result<ProjectSummary | null>()),
  recent: method(NO_ARGUMENT, result<RecentProject[]>()),
  forgetRecent: method(z.strictObject({ folder: absolutePath }), result<RecentProject[]>()),
  /** The open project, or null. */
  current: method(NO_ARGUMENT, result<ProjectSummary | null>()),
  close: method(NO_ARGUMENT, result<null>()),
  /** Scans the folder again (new, missing, moved images). */
  rescan: method(NO_ARGUMENT, result<ProjectSummary>()),
}
