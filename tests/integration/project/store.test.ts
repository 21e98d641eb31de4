// The store: categories, annotations, image status, validation of every mutating call, and
// that each change is committed (visible to a second connection) when the call returns.

import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { UserError } from '../../../src-main/core/errors.ts'
import { Project, type StoredAnnotation, type ProjectImage } from '../../../src-main/core/project/index.ts'
import { annotationInput, imageBytes, tempFolder, writeFile } from '../../helpers/project-fixtures.ts'

let dir: string
let cleanup: () => void
let project: Project
let images: ProjectImage[]

beforeAll(async () => {
  ;({ dir, cleanup } = tempFolder())
  writeFile(dir, 'a.png', await imageBytes('png', 40, 30, 1))
  writeFile(dir, 'b.png', await imageBytes('png', 40, 30, 2))
  writeFile(dir, 'c.png', await imageBytes('png', 40, 30, 3))
})
afterAll(() => cleanup())

beforeEach(async () => {
  project?.close()
  // A fresh project for each test: the database beside the images is removed first.
  const { rmSync } = await import('node:fs')
  rmSync(join(dir, '.sam-annotator'), { recursive: true, force: true })
  project = Project.open(dir)
  await project.scan()
  await project.readPendingHeaders()
  images = project.listImages()
})

async function userError(fn: () => unknown, code: string, message: RegExp): Promise<void> {
  try {
    await fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UserError)
    expect((err as UserError).code).toBe(code)
    expect((err as UserError).message).toMatch(message)
    return
  }
  throw new Error(`expected a UserError ${code}`)
}

/** A second, independent connection: sees only what was committed. */
function committed<T>(sql: string, ...params: unknown[]): T {
  const db = new Database(project.dbPath, { readonly: true })
  try {
    return db.prepare(sql).get(...params) as T
  } finally {
    db.close()
  }
}

describe('database', () => {
  it('is in the folder, in WAL mode with foreign keys and synchronous FULL', async () => {
    expect(project.dbPath).toBe(join(project.folder, '.sam-annotator', 'project.sqlite'))
    expect(project.location).toBe('folder')
    expect(project.notice).toBeNull()
    const db = new Database(project.dbPath, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
    // Per-connection settings: read through the project's own connection.
    const own = (project as unknown as { db: Database.Database }).db
    expect(own.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(own.pragma('synchronous', { simple: true })).toBe(2) // FULL
    // The app's default waits for another process's lock on timers: SQLite blocks a few ms at most.
    expect(own.pragma('busy_timeout', { simple: true })).toBeLessThanOrEqual(5)
    const cli = Project.open(dir, { lockWait: 'blocking' })
    try {
      const its = (cli as unknown as { db: Database.Database }).db
      expect(its.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(5000)
    } finally {
      cli.close()
    }
  })
})

describe('categories', () => {
  it('creates with a palette colour, lists in order, renames, recolours, reorders', async () => {
    const cat = await project.createCategory({ name: '  cat ' })
    const dog = await project.createCategory({ name: 'dog', color: '#A0B1C2', supercategory: 'animal' })
    expect(cat).toMatchObject({ name: 'cat', order: 0, supercategory: null })
    expect(cat.color).toMatch(/^#[0-9a-f]{6}$/)
    expect(dog).toMatchObject({ name: 'dog', color: '#a0b1c2', order: 1, supercategory: 'animal' })
    expect((await project.renameCategory(cat.id, 'Cat')).name).toBe('Cat') // own name in another case is fine
    expect((await project.recolorCategory(cat.id, '#00ff00')).color).toBe('#00ff00')
    expect((await project.reorderCategories([dog.id, cat.id])).map((c) => c.name)).toEqual(['dog', 'Cat'])
    expect(project.listCategories().map((c) => [c.name, c.order])).toEqual([
      ['dog', 0],
      ['Cat', 1],
    ])
    expect(committed<{ n: number }>('SELECT count(*) AS n FROM categories').n).toBe(2)
  })

  it('refuses duplicate names ignoring case (any script), empty names and bad colours', async () => {
    const cat = await project.createCategory({ name: 'Straße' })
    await userError(() => project.createCategory({ name: 'straße' }), 'category-exists', /Straße/)
    await userError(() => project.createCategory({ name: 'STRAßE' }), 'category-exists', /already exists/)
    const other = await project.createCategory({ name: 'Ärger' })
    await userError(() => project.renameCategory(other.id, 'straße'), 'category-exists', /Straße/)
    await userError(() => project.createCategory({ name: '   ' }), 'category-name', /empty/)
    await userError(() => project.createCategory({ name: 'x', color: 'red' }), 'category-color', /"red".*#rrggbb/)
    await userError(() => project.recolorCategory(cat.id, '#12345'), 'category-color', /#12345/)
    await userError(() => project.renameCategory(999, 'y'), 'category-unknown', /999/)
    await userError(() => project.reorderCategories([cat.id]), 'invalid-value', /leaves out category "Ärger"/)
    await userError(() => project.reorderCategories([cat.id, cat.id, other.id]), 'invalid-value', /twice/)
    expect(project.listCategories()).toHaveLength(2)
  })

  it('ensureCategory returns the existing category ignoring case, else creates it', async () => {
    const a = await project.ensureCategory('Person')
    expect((await project.ensureCategory('person')).id).toBe(a.id)
    expect((await project.ensureCategory('car')).id).not.toBe(a.id)
    expect(project.listCategories()).toHaveLength(2)
  })

  it('refuses to delete a category in use, naming the count, unless forced', async () => {
    const cat = await project.createCategory({ name: 'cat' })
    const dog = await project.createCategory({ name: 'dog' })
    const bird = await project.createCategory({ name: 'bird' })
    await project.saveAnnotation(annotationInput(images[0].id, cat.id))
    await project.saveAnnotation(annotationInput(images[1].id, cat.id))
    await userError(() => project.deleteCategory(cat.id), 'category-in-use', /"cat" is used by 2 annotations/)
    expect(project.counts().annotations).toBe(2)
    await project.deleteCategory(dog.id)
    await project.deleteCategory(cat.id, { force: true })
    expect(project.counts()).toMatchObject({ annotations: 0, perCategory: [{ name: 'bird', count: 0 }] })
    expect(project.listCategories()).toEqual([{ ...bird, order: 0 }])
  })
})

describe('annotations', () => {
  it('saves, reads, updates and deletes, each committed before the call returns', async () => {
    const cat = await project.createCategory({ name: 'cat' })
    const dog = await project.createCategory({ name: 'dog' })
    const input = annotationInput(images[0].id, cat.id, {
      prompt: { points: [{ x: 1.5, y: 2.5, label: 1 }], box: { x0: 0, y0: 0, x1: 20, y1: 10 } },
    })
    const saved = await project.saveAnnotation(input)
    expect(saved).toMatchObject({ ...input, id: expect.any(Number) })
    expect(saved.createdAt).toBe(saved.updatedAt)
    expect(new Date(saved.createdAt).toISOString()).toBe(saved.createdAt)
    expect(committed<{ n: number }>('SELECT count(*) AS n FROM annotations WHERE id = ?', saved.id).n).toBe(1)
    expect(project.getImage(images[0].id)).toMatchObject({ annotationCount: 1, status: 'in_progress' })

    const rle = { size: [30, 40] as [number, number], counts: 'PPYo1' }
    const updated = await project.updateAnnotation(saved.id, { categoryId: dog.id, segmentation: rle, score: null })
    expect(updated).toMatchObject({
      id: saved.id,
      categoryId: dog.id,
      segmentation: rle,
      score: null,
      bbox: input.bbox,
      createdAt: saved.createdAt,
    })
    expect(updated.updatedAt >= saved.updatedAt).toBe(true)
    expect(
      committed<{ category_id: number }>('SELECT category_id FROM annotations WHERE id = ?', saved.id).category_id,
    ).toBe(dog.id)
    expect(project.listAnnotations(images[0].id)).toEqual([updated])

    await project.deleteAnnotation(saved.id)
    expect(committed<{ n: number }>('SELECT count(*) AS n FROM annotations').n).toBe(0)
    await userError(() => project.getAnnotation(saved.id), 'annotation-unknown', new RegExp(String(saved.id)))
    await userError(() => project.deleteAnnotation(saved.id), 'annotation-unknown', /no annotation/)
  })

  it('validates every field and names the value at fault; nothing is written on refusal', async () => {
    const cat = await project.createCategory({ name: 'cat' })
    const ok = (o: Partial<StoredAnnotation>) => annotationInput(images[0].id, cat.id, o)
    await userError(() => project.saveAnnotation(ok({ imageId: 9999 })), 'image-unknown', /9999/)
    await userError(() => project.saveAnnotation(ok({ categoryId: 4242 })), 'category-unknown', /4242/)
    await userError(() => project.saveAnnotation(ok({ imageId: 1.5 })), 'image-id', /1\.5/)
    await userError(() => project.saveAnnotation(ok({ bbox: [1, 2, 3] as never })), 'annotation-bbox', /\[1,2,3\]/)
    await userError(
      () => project.saveAnnotation(ok({ bbox: [1, 2, Number.NaN, 4] })),
      'annotation-bbox',
      /4 finite numbers/,
    )
    await userError(() => project.saveAnnotation(ok({ bbox: [1, 2, -3, 4] })), 'annotation-bbox', /negative/)
    await userError(() => project.saveAnnotation(ok({ area: -1 })), 'annotation-area', /-1/)
    await userError(() => project.saveAnnotation(ok({ segmentation: [] })), 'annotation-segmentation', /no polygon/)
    await userError(
      () => project.saveAnnotation(ok({ segmentation: [[1, 2, 3, 4]] })),
      'annotation-segmentation',
      /4 numbers/,
    )
    await userError(
      () => project.saveAnnotation(ok({ segmentation: [[1, 2, 3, 4, 5, 'x' as never]] })),
      'annotation-segmentation',
      /value 5 \("x"\)/,
    )
    await userError(
      () => project.saveAnnotation(ok({ segmentation: { size: [30, 40], counts: 'a b' } })),
      'annotation-segmentation',
      /"a b"/,
    )
    await userError(
      () => project.saveAnnotation(ok({ segmentation: { size: [0, 40], counts: '1' } })),
      'annotation-segmentation',
      /\[0,40\]/,
    )
    await userError(
      () => project.saveAnnotation(ok({ segmentation: { size: [40, 30], counts: 'PPYo1' } })),
      'annotation-segmentation',
      /\[40, 30\].*a\.png/,
    )
    await userError(() => project.saveAnnotation(ok({ score: Number.POSITIVE_INFINITY })), 'annotation-score', /score/)
    await userError(
      () => project.saveAnnotation(ok({ prompt: { points: [{ x: 1, y: 2, label: 2 as never }] } })),
      'annotation-prompt',
      /point 0/,
    )
    await userError(
      () => project.saveAnnotation(ok({ prompt: { points: [], box: { x0: 1 } as never } })),
      'annotation-prompt',
      /box/,
    )
    const saved = await project.saveAnnotation(ok({}))
    await userError(() => project.updateAnnotation(saved.id, { area: -5 }), 'annotation-area', /-5/)
    await userError(() => project.updateAnnotation(saved.id, { id: 3 } as never), 'annotation', /id cannot be changed/)
    expect(project.getAnnotation(saved.id).area).toBe(70)
    expect(project.counts().annotations).toBe(1)
  })

  it('streams every annotation in id order without loading all at once', async () => {
    const cat = await project.createCategory({ name: 'cat' })
    const ids: number[] = []
    for (let i = 0; i < 250; i++)
      ids.push((await project.saveAnnotation(annotationInput(images[i % 3].id, cat.id, { area: i }))).id)
    await project.deleteAnnotation(ids[100])
    const seen: number[] = []
    for (const a of project.iterateAnnotations({ pageSize: 100 })) {
      seen.push(a.id)
      if (seen.length === 150) project.getImage(a.imageId) // other calls work mid-iteration
    }
    expect(seen).toEqual(ids.filter((_, i) => i !== 100))
    expect(project.counts()).toMatchObject({ annotations: 249, perCategory: [{ name: 'cat', count: 249 }] })
  })

  it('ids are never reused after a delete (stable export ids)', async () => {
    const cat = await project.createCategory({ name: 'cat' })
    const a = await project.saveAnnotation(annotationInput(images[0].id, cat.id))
    await project.deleteAnnotation(a.id)
    expect((await project.saveAnnotation(annotationInput(images[0].id, cat.id))).id).toBe(a.id + 1)
  })
})

describe('images', () => {
  it('sets status, filters by it, and refuses unknown ids and statuses', async () => {
    await project.setImageStatus(images[1].id, 'done')
    await project.setImageStatus(images[2].id, 'skipped')
    expect(project.listImages({ status: 'done' }).map((i) => i.path)).toEqual(['b.png'])
    expect(project.listImages({ status: 'new' }).map((i) => i.path)).toEqual(['a.png'])
    expect(committed<{ status: string }>('SELECT status FROM images WHERE id = ?', images[1].id).status).toBe('done')
    await userError(() => project.setImageStatus(images[0].id, 'finished' as never), 'image-status', /"finished"/)
    await userError(() => project.setImageStatus(777, 'done'), 'image-unknown', /777/)
    await userError(() => project.getImage(777), 'image-unknown', /777/)
    expect(project.imageByPath('nope.png')).toBeNull()
  })

  it('a saved annotation moves only a new image to in_progress', async () => {
    const cat = await project.createCategory({ name: 'cat' })
    await project.setImageStatus(images[1].id, 'done')
    await project.saveAnnotation(annotationInput(images[1].id, cat.id))
    expect(project.getImage(images[1].id).status).toBe('done')
  })

  it('an image whose last annotation goes is new again, by delete or by deleting its category', async () => {
    const cat = await project.createCategory({ name: 'cat' })
    const other = await project.createCategory({ name: 'other' })
    const a = await project.saveAnnotation(annotationInput(images[0].id, cat.id))
    const b = await project.saveAnnotation(annotationInput(images[0].id, cat.id))
    await project.deleteAnnotation(a.id)
    expect(project.getImage(images[0].id).status).toBe('in_progress')
    await project.deleteAnnotation(b.id)
    expect(project.getImage(images[0].id).status).toBe('new')
    // A forced category deletion empties two images; the one keeping an annotation stays.
    await project.saveAnnotation(annotationInput(images[0].id, cat.id))
    await project.saveAnnotation(annotationInput(images[1].id, cat.id))
    await project.saveAnnotation(annotationInput(images[1].id, other.id))
    await project.saveAnnotation(annotationInput(images[2].id, cat.id))
    await project.setImageStatus(images[2].id, 'done')
    await project.deleteCategory(cat.id, { force: true })
    expect(images.map((image) => project.getImage(image.id).status)).toEqual(['new', 'in_progress', 'done'])
  })
})
