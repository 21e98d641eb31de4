// An image's annotation count is kept with the image (a column the database's triggers
// maintain), so a save costs the same whatever the image already holds; and the count stays
// right through every way annotations come and go, in old projects too.

import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { migrate } from '../../../src-main/core/project/migrations/index.ts'
import { Project, type ProjectImage } from '../../../src-main/core/project/index.ts'
import { annotationInput, cleanupAfterEach, imageBytes, writeFile } from '../../helpers/project-fixtures.ts'

const { temp } = cleanupAfterEach()

async function folderWithImages(n: number): Promise<string> {
  const dir = temp()
  for (let i = 0; i < n; i++) writeFile(dir, `img${i}.png`, await imageBytes('png', 40, 30, i + 1))
  return dir
}

async function openScanned(dir: string): Promise<{ project: Project; images: ProjectImage[] }> {
  const project = Project.open(dir)
  await project.scan()
  await project.readPendingHeaders()
  return { project, images: project.listImages() }
}

/** Adds `count` annotations to one image in one statement, from a second connection (fast set-up). */
function bulkInsert(dbPath: string, imageId: number, categoryId: number, count: number): void {
  const db = new Database(dbPath)
  try {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO annotations (image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h, area,
         created_at, updated_at)
       SELECT ?, ?, '[[2,2,12,2,12,9,2,9]]', 2, 2, 10, 7, 70, 't', 't' FROM n`,
    ).run(count, imageId, categoryId)
  } finally {
    db.close()
  }
}

interface Executed {
  sql: string
  params: unknown[]
  /** Rows handed back by a read; null for a write. */
  rows: number | null
}

/**
 * Every statement `fn` executes through better-sqlite3, with the rows it returned. A wrapper on
 * the statement methods: the store prepares its statements once, but looks the methods up on
 * each call.
 */
async function recordStatements(fn: () => Promise<unknown>): Promise<Executed[]> {
  const probe = new Database(':memory:')
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>
  probe.close()
  const log: Executed[] = []
  const originals = { run: proto.run, get: proto.get, all: proto.all }
  proto.run = function (this: { source: string }, ...params: unknown[]) {
    const r = originals.run.apply(this, params)
    log.push({ sql: this.source, params, rows: null })
    return r
  }
  proto.get = function (this: { source: string }, ...params: unknown[]) {
    const r = originals.get.apply(this, params)
    log.push({ sql: this.source, params, rows: r === undefined ? 0 : 1 })
    return r
  }
  proto.all = function (this: { source: string }, ...params: unknown[]) {
    const r = originals.all.apply(this, params) as unknown[]
    log.push({ sql: this.source, params, rows: r.length })
    return r
  }
  try {
    await fn()
  } finally {
    Object.assign(proto, originals)
  }
  return log
}

/** The query plan lines of `sql` that read a table other than by its primary key. */
function unboundedSteps(dbPath: string, executed: Executed): string[] {
  const db = new Database(dbPath, { readonly: true })
  try {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${executed.sql}`).all(...executed.params) as { detail: string }[]
    return plan
      .map((p) => p.detail)
      .filter((d) => /^(SCAN|SEARCH)\b/.test(d))
      .filter((d) => !/USING INTEGER PRIMARY KEY \(rowid=\?\)/.test(d) && !/USING INDEX sqlite_autoindex_/.test(d))
  } finally {
    db.close()
  }
}

describe('saving onto an image', () => {
  it('runs the same statements, reading the same rows, with 0 or 20,000 annotations on the image', async () => {
    const { project, images } = await openScanned(await folderWithImages(1))
    try {
      const image = images[0]
      const category = await project.createCategory({ name: 'cell' })
      const save = () => recordStatements(() => project.saveAnnotation(annotationInput(image.id, category.id)))
      const empty = await save()
      bulkInsert(project.dbPath, image.id, category.id, 20_000)
      const full = await save()
      expect(project.getImage(image.id).annotationCount).toBe(20_002)

      expect(full.map((e) => [e.sql, e.rows])).toEqual(empty.map((e) => [e.sql, e.rows]))
      expect(full.length).toBeLessThanOrEqual(8)
      // None of them reads annotations (or anything else) by a scan or a secondary index: the
      // image's annotations are never counted or listed to save one more.
      for (const e of full) expect(unboundedSteps(project.dbPath, e), e.sql).toEqual([])
    } finally {
      project.close()
    }
  })
})

describe('an image’s annotation count', () => {
  it('follows saves, moves between images, deletes and a forced category deletion', async () => {
    const { project, images } = await openScanned(await folderWithImages(2))
    try {
      const [a, b] = images.map((i) => i.id)
      const counts = () => project.listImages().map((i) => i.annotationCount)
      const cell = await project.createCategory({ name: 'cell' })
      const dust = await project.createCategory({ name: 'dust' })
      const first = await project.saveAnnotation(annotationInput(a, cell.id))
      await project.saveAnnotation(annotationInput(a, dust.id))
      await project.saveAnnotation(annotationInput(b, dust.id))
      expect(counts()).toEqual([2, 1])
      await project.updateAnnotation(first.id, { imageId: b })
      expect(counts()).toEqual([1, 2])
      await project.updateAnnotation(first.id, { categoryId: dust.id }) // same image: unchanged
      expect(counts()).toEqual([1, 2])
      await project.deleteAnnotation(first.id)
      expect(counts()).toEqual([1, 1])
      await project.deleteCategory(dust.id, { force: true })
      expect(counts()).toEqual([0, 0])
      expect(project.getImage(a).annotationCount).toBe(0)
      // A transaction that fails takes its count changes with it.
      await expect(
        project.transaction((tx) => {
          tx.saveAnnotation(annotationInput(a, cell.id))
          throw new Error('abandoned')
        }),
      ).rejects.toThrow('abandoned')
      expect(counts()).toEqual([0, 0])
    } finally {
      project.close()
    }
  })

  it('is filled in when a project made by schema version 1 is opened, and kept from then on', async () => {
    const dir = await folderWithImages(3)
    // A project file as schema version 1 left it: rows written by that version's SQL.
    const dbPath = writeFile(dir, '.sam-annotator/project.sqlite', Buffer.alloc(0))
    const old = new Database(dbPath)
    migrate(old, 1)
    const addImage = old.prepare(`INSERT INTO images (path, size, mtime_ms, width, height, header_read, added_at)
      VALUES (?, 1, 0, 40, 30, 1, 't')`)
    const ids = [0, 1, 2].map((i) => Number(addImage.run(`img${i}.png`).lastInsertRowid))
    const category = Number(
      old
        .prepare(`INSERT INTO categories (name, name_key, color, sort_order) VALUES ('cell', 'cell', '#4e79a7', 0)`)
        .run().lastInsertRowid,
    )
    old.close()
    bulkInsert(dbPath, ids[0], category, 3)
    bulkInsert(dbPath, ids[2], category, 1)

    const project = Project.open(dir)
    try {
      expect(project.migratedFrom).toBe(1)
      expect(project.listImages().map((i) => [i.path, i.annotationCount])).toEqual([
        ['img0.png', 3],
        ['img1.png', 0],
        ['img2.png', 1],
      ])
      await project.saveAnnotation(annotationInput(ids[1], category))
      const moved = project.listAnnotations(ids[0])[0]
      await project.updateAnnotation(moved.id, { imageId: ids[2] })
      expect(project.listImages().map((i) => i.annotationCount)).toEqual([2, 1, 2])
    } finally {
      project.close()
    }
  })
})
