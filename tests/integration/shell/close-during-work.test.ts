// Closing the project while an import runs on it: the import is cancelled and leaves nothing
// (not even a category), the close waits for it and succeeds, and the window hears a typed
// 'cancelled', not the store's internal "connection is not open".
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openShellProject, type OpenedShell } from './fixture.ts'

describe('closing the project during an import', () => {
  let opened: OpenedShell

  beforeAll(async () => {
    opened = await openShellProject('sam-shell-close-during-')
  })
  afterAll(async () => {
    await opened.close()
  })

  it('cancels the import, which leaves no trace, and closes cleanly', async () => {
    const { shell, folder } = opened
    // 30,000 small squares on a-square.png (96x64) under 50 new categories: long enough to close during.
    const annotations = Array.from({ length: 30_000 }, (_, i) => {
      const x = i % 80,
        y = (i * 7) % 50
      return {
        id: i + 1,
        image_id: 1,
        category_id: (i % 50) + 1,
        segmentation: [[x, y, x + 10, y, x + 10, y + 10, x, y + 10]],
        area: 100,
        bbox: [x, y, 10, 10],
        iscrowd: 0,
      }
    })
    const file = join(folder, 'big.coco.json')
    writeFileSync(
      file,
      JSON.stringify({
        images: [{ id: 1, file_name: 'a-square.png', width: 96, height: 64 }],
        categories: Array.from({ length: 50 }, (_, i) => ({ id: i + 1, name: `imported-${i}` })),
        annotations,
      }),
    )
    shell.dialogs.openFiles.push(file)
    const importing = shell.invoke('annot:export.importCoco')
    // Close as soon as the import has started to read the file.
    await new Promise((resolve) => setTimeout(resolve, 30))
    const closed = await shell.invoke('annot:project.close')
    expect(closed).toEqual({ ok: true, value: null })
    const result = await importing
    expect(result.ok ? 'ok' : result.error.code).toBe('cancelled')

    const db = new Database(join(folder, '.sam-annotator', 'project.sqlite'), { readonly: true })
    try {
      expect(db.prepare(`SELECT count(*) AS n FROM categories WHERE name LIKE 'imported-%'`).get()).toEqual({ n: 0 })
      expect(db.prepare('SELECT count(*) AS n FROM annotations').get()).toEqual({ n: 0 })
    } finally {
      db.close()
    }
  })
})
