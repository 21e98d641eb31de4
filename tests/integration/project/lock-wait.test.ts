// Waiting for another process's write lock without freezing the process: the app's writes
// (lockWait 'async', the default) retry on timers while the event loop keeps running, and give
// 'project-busy' once the bound has passed, never a hang. The lock is held by a second real
// process on the same SQLite file (the CLI importing while the app is open).

import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import Database from 'better-sqlite3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { importCoco } from '../../../src-main/core/coco/import-coco.ts'
import { UserError } from '../../../src-main/core/errors.ts'
import { Project } from '../../../src-main/core/project/index.ts'
import { annotationInput, cleanupAfterEach, imageBytes, writeFile } from '../../helpers/project-fixtures.ts'
import { watchEventLoop } from '../../helpers/event-loop.ts'

const { cleanups, temp } = cleanupAfterEach()

async function scannedProject(options: Parameters<typeof Project.open>[1] = {}): Promise<Project> {
  const dir = temp('sam-lock-')
  writeFile(dir, 'a.png', await imageBytes('png', 40, 30, 1))
  const project = Project.open(dir, options)
  cleanups.push(() => project.close())
  await project.scan()
  await project.readPendingHeaders()
  return project
}

/**
 * A second process that takes the write lock of `dbPath` and holds it for `holdMs`. Resolves
 * once the lock is held; `released` resolves when the process has let it go.
 */
async function holdLock(dbPath: string, holdMs: number): Promise<{ child: ChildProcess; released: Promise<number> }> {
  const script = `
    const Database = require('better-sqlite3')
    const db = new Database(process.argv[1])
    db.exec('BEGIN IMMEDIATE')
    process.stdout.write('locked\\n')
    setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n') }, Number(process.argv[2]))
  `
  const child = spawn(process.execPath, ['-e', script, dbPath, String(holdMs)], { cwd: process.cwd() })
  cleanups.push(() => child.kill('SIGKILL'))
  let out = ''
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const released = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('released')) resolve(performance.now())
    })
    child.on('exit', (code) => {
      if (!out.includes('released')) reject(new Error(`lock holder exited ${code}: ${stderr}`))
    })
  })
  released.catch(() => {})
  while (!out.includes('locked')) {
    await Promise.race([once(child.stdout!, 'data'), released])
  }
  return { child, released }
}

describe('a write while another process holds the write lock', () => {
  it('waits on timers: the event loop keeps ticking, and the save lands once the lock is released', async () => {
    const project = await scannedProject()
    const category = await project.createCategory({ name: 'cat' })
    const image = project.listImages()[0]
    const { released } = await holdLock(project.dbPath, 800)
    const started = performance.now()
    const {
      value: saved,
      ticks,
      maxGapMs,
    } = await watchEventLoop(() => project.saveAnnotation(annotationInput(image.id, category.id)))
    const releasedAt = await released
    // It waited for the other process, not around it ...
    expect(performance.now()).toBeGreaterThanOrEqual(releasedAt)
    expect(performance.now() - started).toBeGreaterThan(500)
    // ... and meanwhile this process went on: a blocking wait (SQLite's busy_timeout) gives one
    // gap as long as the whole wait and no ticks at all.
    expect(maxGapMs).toBeLessThan(250)
    expect(ticks).toBeGreaterThan(20)
    expect(project.getAnnotation(saved.id).categoryId).toBe(category.id)
  })

  it("gives 'project-busy' once the bound has passed, without a hang, and changes nothing", async () => {
    const project = await scannedProject({ lockWaitMs: 300 })
    const category = await project.createCategory({ name: 'cat' })
    const image = project.listImages()[0]
    const { released } = await holdLock(project.dbPath, 800)
    const started = performance.now()
    const { value: err, maxGapMs } = await watchEventLoop(() =>
      project.saveAnnotation(annotationInput(image.id, category.id)).then(
        () => null,
        (e: unknown) => e,
      ),
    )
    const waited = performance.now() - started
    expect(err).toBeInstanceOf(UserError)
    expect((err as UserError).code).toBe('project-busy')
    expect((err as UserError).message).toContain(project.dbPath)
    expect(waited).toBeGreaterThanOrEqual(280)
    expect(waited).toBeLessThan(750)
    expect(maxGapMs).toBeLessThan(250)
    await released
    expect(project.counts().annotations).toBe(0)
    // Free again: the next save goes through.
    await project.saveAnnotation(annotationInput(image.id, category.id))
    expect(project.counts().annotations).toBe(1)
  })

  it("the CLI's blocking wait (lockWait 'blocking') waits inside SQLite and still lands the save", async () => {
    const project = await scannedProject({ lockWait: 'blocking', lockWaitMs: 5000 })
    const category = await project.createCategory({ name: 'cat' })
    const image = project.listImages()[0]
    const { released } = await holdLock(project.dbPath, 400)
    const { value: saved, ticks } = await watchEventLoop(() =>
      project.saveAnnotation(annotationInput(image.id, category.id)),
    )
    await released
    expect(ticks).toBeLessThanOrEqual(1) // the thread was held: what the app must never do
    expect(project.getAnnotation(saved.id).id).toBe(saved.id)
  })

  it('opening an up-to-date project takes no write lock (the app can open one the CLI is writing)', async () => {
    const project = await scannedProject()
    const folder = project.folder
    project.close()
    const db = new Database(project.dbPath)
    cleanups.push(() => db.close())
    db.exec('BEGIN IMMEDIATE')
    const again = Project.open(folder)
    cleanups.push(() => again.close())
    expect(again.listImages()).toHaveLength(1)
    db.exec('COMMIT')
  })

  it('a COCO import is staged while the lock is held elsewhere, and commits once it is free', async () => {
    const project = await scannedProject()
    const file = cocoFile()
    const { released } = await holdLock(project.dbPath, 600)
    const { value: result, maxGapMs } = await watchEventLoop(() => importCoco(project, file))
    const releasedAt = await released
    expect(performance.now()).toBeGreaterThanOrEqual(releasedAt)
    expect(maxGapMs).toBeLessThan(250)
    expect(result).toMatchObject({ imported: 2, categoriesCreated: ['cat', 'dog'] })
    expect(project.counts().annotations).toBe(2)
  })

  it("a COCO import whose commit cannot get the lock in time gives 'project-busy' and leaves no trace", async () => {
    const project = await scannedProject({ lockWaitMs: 300 })
    const file = cocoFile()
    const { released } = await holdLock(project.dbPath, 800)
    const err = await importCoco(project, file).catch((e: unknown) => e)
    expect((err as UserError).code).toBe('project-busy')
    await released
    expect(project.listCategories()).toEqual([])
    expect(project.counts().annotations).toBe(0)
    expect((await importCoco(project, file)).imported).toBe(2)
  })
})

/** A COCO file with two annotations on a.png (40x30) in two new categories. */
function cocoFile(): string {
  const file = join(temp('sam-lock-coco-'), 'in.json')
  writeFileSync(
    file,
    JSON.stringify({
      images: [{ id: 1, file_name: 'a.png', width: 40, height: 30 }],
      categories: [
        { id: 1, name: 'cat' },
        { id: 2, name: 'dog' },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, segmentation: [[2, 2, 20, 2, 20, 20]], area: 1, bbox: [0, 0, 1, 1] },
        { id: 2, image_id: 1, category_id: 2, segmentation: [[5, 5, 30, 5, 30, 25]], area: 1, bbox: [0, 0, 1, 1] },
      ],
    }),
  )
  return file
}
