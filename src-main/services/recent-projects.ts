// The recent projects list (most recent first, at most MAX_RECENT), kept in user data as
// recent-projects.json. It is also the set of folders a renderer may ask to open by path.
import { existsSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { RecentProject } from '../../src-preload/contract/project.ts'
import { readJsonFile, writeJsonFile } from './json-file.ts'

export const MAX_RECENT = 10
export const RECENT_FILE = 'recent-projects.json'

interface StoredRecent {
  folder: string
  openedAt: string
}

function isStoredRecent(value: unknown): value is StoredRecent {
  const entry = value as Partial<StoredRecent> | null
  return typeof entry?.folder === 'string' && entry.folder !== '' && typeof entry.openedAt === 'string'
}

function isFolder(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isDirectory()
  } catch {
    return false
  }
}

export class RecentProjects {
  readonly file: string
  private entries: StoredRecent[]

  constructor(userDataDir: string) {
    this.file = join(userDataDir, RECENT_FILE)
    const stored = readJsonFile(this.file)
    this.entries = Array.isArray(stored) ? stored.filter(isStoredRecent).slice(0, MAX_RECENT) : []
  }

  list(): RecentProject[] {
    return this.entries.map((entry) => ({
      folder: entry.folder,
      name: basename(entry.folder),
      openedAt: entry.openedAt,
      exists: isFolder(entry.folder),
    }))
  }

  has(folder: string): boolean {
    return this.entries.some((entry) => entry.folder === folder)
  }

  /** Moves (or adds) the folder to the top. */
  add(folder: string, now = new Date()): void {
    this.entries = [
      { folder, openedAt: now.toISOString() },
      ...this.entries.filter((entry) => entry.folder !== folder),
    ].slice(0, MAX_RECENT)
    this.save()
  }

  remove(folder: string): void {
    this.entries = this.entries.filter((entry) => entry.folder !== folder)
    this.save()
  }

  private save(): void {
    try {
      writeJsonFile(this.file, this.entries)
    } catch (err) {
      // Losing the recent list is not worth failing an open over.
      console.error(`[recent] cannot write ${this.file}:`, err)
    }
  }
}
