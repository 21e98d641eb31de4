// Where the database lives and how it is opened: read-only folders fall back to user data,
// damaged or too-new files are refused and left byte-for-byte unchanged, migrations run from
// every earlier version, and two processes can write the same project at once.

import Database from 'better-sqlite3'
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UserError } from '../../../src-main/core/errors.ts'
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../../../src-main/core/project/migrations/index.ts'
import { folderKey, Project } from '../../../src-main/core/project/index.ts'
import {
  annotationInput,
  imageBytes,
  NOBODY,
  cleanupAfterEach,
  TSX_ARGS,
  whyNobodyCannotImport,
  writeFile,
} from '../../helpers/project-fixtures.ts'

const FIXTURES = join(import.meta.dirname, 'fixtures')
const SRC_PROJECT = join(import.meta.dirname, '..', '..', '..', 'src-main', 'core', 'project')
const { cleanups, temp } = cleanupAfterEach()

async function folderWithImage(): Promise<string> {
  const dir = temp()
  writeFile(dir, 'a.png', await imageBytes('png', 40, 30))
  return dir
}

function expectUserError(fn: () => unknown, code: string, message: RegExp): void {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(UserError)
  expect((caught as UserError).code).toBe(code)
  expect((caught as UserError).message).toMatch(message)
}

/** A closed project with a few annotations (a file of several pages). */
async function populatedProject(): Promise<{ dir: string; dbPath: string }> {
  const dir = await folderWithImage()
  const project = Project.open(dir)
  await project.scan()
  const cat = await project.createCategory({ name: 'cat' })
  const image = project.listImages()[0]
  const ring = Array.from({ length: 400 }, (_, i) => i % 40)
  for (let i = 0; i < 40; i++) await project.saveAnnotation(annotationInput(image.id, cat.id, { segmentation: [ring] }))
  const dbPath = project.dbPath
  project.close()
  return { dir, dbPath }
}

function schemaOf(db: Database.Database): string[] {
  return (
    db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
      type: string
      name: string
      sql: string
    }[]
  ).map((r) => `${r.type} ${r.name}: ${r.sql.replace(/\s+/g, ' ')}`)
}

describe('location', () => {
  it('creates the database in <folder>/.sam-annotator and reopens the same one', async () => {
    const dir = await folderWithImage()
    let project = Project.open(dir)
    expect(project.dbPath).toBe(join(project.folder, '.sam-annotator', 'project.sqlite'))
    expect(project.migratedFrom).toBe(0)
    expect(project.meta()).toMatchObject({ folder: project.folder, created_at: expect.stringMatching(/^\d{4}-/) })
    await project.scan()
    await project.createCategory({ name: 'cat' })
    project.close()
    project = Project.open(join(dir, '.')) // another spelling of the same folder
    expect(project.migratedFrom).toBe(SCHEMA_VERSION)
    expect(project.listCategories().map((c) => c.name)).toEqual(['cat'])
    expect(project.listImages()).toHaveLength(1)
    project.close()
  })

  it('refuses a folder that does not exist or is a file', () => {
    expectUserError(
      () => Project.open('/nonexistent/folder/x'),
      'project-folder',
      /\/nonexistent\/folder\/x: folder not found/,
    )
    const file = writeFile(temp(), 'f.png', 'x')
    expectUserError(() => Project.open(file), 'project-folder', /f\.png: not a folder/)
  })

  it('keeps the project of a read-only folder under user data and says where', async (ctx) => {
    // Root ignores permissions, so as root the project is opened by a child running as "nobody",
    // which must be able to reach this checkout to do it.
    const asRoot = process.getuid?.() === 0
    const blocked = asRoot ? whyNobodyCannotImport(join(SRC_PROJECT, 'index.ts')) : null
    if (blocked !== null)
      ctx.skip(`running as root, and uid ${NOBODY} cannot run the fixture from this checkout: ${blocked}`)
    const dir = await folderWithImage()
    const userData = join(dir, '..', `${dir.split('/').pop()}-user-data`)
    mkdirSync(userData)
    cleanups.push(() => execFileSync('rm', ['-rf', userData]))
    chmodSync(dir, 0o555)
    chmodSync(join(dir, 'a.png'), 0o444)
    chmodSync(userData, 0o777)
    cleanups.push(() => chmodSync(dir, 0o755))
    const run = () => {
      const out = execFileSync(process.execPath, [...TSX_ARGS, join(FIXTURES, 'open-print.ts'), dir, userData], {
        cwd: join(import.meta.dirname, '..', '..', '..'),
        encoding: 'utf8',
        ...(asRoot ? { uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: '/tmp' } } : {}),
      })
      return JSON.parse(out.trim().split('\n').pop()!) as {
        dbPath: string
        location: string
        notice: string
        found: number
        width: number
        saved: number
      }
    }
    const first = run()
    const expected = join(userData, 'projects', folderKey(dir), 'project.sqlite')
    expect(first).toMatchObject({ dbPath: expected, location: 'user-data', found: 1, width: 40, saved: 1 })
    expect(first.notice).toContain(expected)
    expect(first.notice).toContain('read-only')
    expect(existsSync(join(dir, '.sam-annotator'))).toBe(false)
    expect(run()).toMatchObject({ dbPath: expected, saved: 2 }) // reopened, not recreated
    // Once the folder is writable again, the existing user-data project is still the one used.
    chmodSync(dir, 0o755)
    const project = Project.open(dir, { userDataDir: userData })
    expect(project.location).toBe('user-data')
    expect(project.counts().annotations).toBe(2)
    project.close()
  })
})

describe('damaged and foreign files', () => {
  function expectRefusedUnchanged(dir: string, dbPath: string, code: string, message: RegExp): void {
    const before = readFileSync(dbPath)
    expectUserError(() => Project.open(dir), code, message)
    expectUserError(() => Project.open(dir), code, message) // and again: nothing was "repaired"
    expect(readFileSync(dbPath).equals(before)).toBe(true)
    expect(existsSync(`${dbPath}-wal`) ? statSync(`${dbPath}-wal`).size : 0).toBe(0)
  }

  it('refuses garbage bytes, naming the file, and leaves them as they were', async () => {
    const dir = await folderWithImage()
    const dbPath = writeFile(
      dir,
      '.sam-annotator/project.sqlite',
      Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)),
    )
    expectRefusedUnchanged(
      dir,
      dbPath,
      'project-corrupt',
      new RegExp(`${dbPath.replace(/[.]/g, '\\.')}: the project database is damaged \\(not an SQLite file\\)`),
    )
  })

  it('refuses a truncated file (cut inside a page, or at a page boundary)', async () => {
    const { dir, dbPath } = await populatedProject()
    const size = statSync(dbPath).size
    expect(size).toBeGreaterThan(4 * 4096)
    const original = readFileSync(dbPath)
    truncateSync(dbPath, Math.floor(size / 2) + 100)
    expectRefusedUnchanged(dir, dbPath, 'project-corrupt', /truncated/)
    writeFileSync(dbPath, original)
    truncateSync(dbPath, 2 * 4096)
    expectRefusedUnchanged(dir, dbPath, 'project-corrupt', /truncated/)
    truncateSync(dbPath, 50) // shorter than the header: SQLite alone would treat it as a new database
    expectRefusedUnchanged(dir, dbPath, 'project-corrupt', /not an SQLite file/)
  })

  it('refuses a file whose pages are damaged (valid header, garbage inside)', async () => {
    const { dir, dbPath } = await populatedProject()
    const bytes = readFileSync(dbPath)
    for (let i = 3 * 4096; i < 5 * 4096; i++) bytes[i] = (i * 31) & 0xff
    writeFileSync(dbPath, bytes)
    expectRefusedUnchanged(dir, dbPath, 'project-corrupt', /project\.sqlite: the project database is damaged/)
  })

  it('refuses a schema version no build writes (negative) and does not touch the file', async () => {
    const { dir, dbPath } = await populatedProject()
    const db = new Database(dbPath)
    db.pragma('user_version = -1')
    db.close()
    expectRefusedUnchanged(
      dir,
      dbPath,
      'project-corrupt',
      /project\.sqlite: the project database is damaged \(schema version -1 is not one SAM Annotator writes\)/,
    )
  })

  it('refuses a schema missing a table or a column of its version, naming it', async () => {
    const { dir, dbPath } = await populatedProject()
    const pristine = readFileSync(dbPath)
    let db = new Database(dbPath)
    db.exec('DROP TABLE annotations')
    db.close()
    expectRefusedUnchanged(
      dir,
      dbPath,
      'project-corrupt',
      /project\.sqlite: the project database is damaged \(incomplete: table annotations is missing\)/,
    )
    writeFileSync(dbPath, pristine)
    db = new Database(dbPath)
    db.exec('ALTER TABLE images DROP COLUMN error')
    db.close()
    expectRefusedUnchanged(dir, dbPath, 'project-corrupt', /\(incomplete: column error of table images is missing\)/)
    // An extra table of the user's own is no damage.
    writeFileSync(dbPath, pristine)
    db = new Database(dbPath)
    db.exec('CREATE TABLE my_notes (note TEXT)')
    db.close()
    const project = Project.open(dir)
    expect(project.counts().annotations).toBe(40)
    project.close()
  })

  it("refuses another program's SQLite file (tables, but no schema version) and does not touch it", async () => {
    const dir = await folderWithImage()
    const dbPath = join(dir, '.sam-annotator', 'project.sqlite')
    mkdirSync(join(dir, '.sam-annotator'))
    const db = new Database(dbPath)
    db.exec("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('bread')")
    db.close()
    expectRefusedUnchanged(
      dir,
      dbPath,
      'project-foreign',
      /project\.sqlite: not a SAM Annotator project database \(it has tables recipes but no schema version\)/,
    )
  })

  it('refuses a folder in place of the database file', async () => {
    const dir = await folderWithImage()
    const dbPath = join(dir, '.sam-annotator', 'project.sqlite')
    mkdirSync(dbPath, { recursive: true })
    expectUserError(
      () => Project.open(dir),
      'project-open',
      /project\.sqlite: the project database is a folder, not a file/,
    )
    expect(statSync(dbPath).isDirectory()).toBe(true)
  })

  it('refuses a project from a newer version of the app and does not touch it', async () => {
    const { dir, dbPath } = await populatedProject()
    const db = new Database(dbPath)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    expectRefusedUnchanged(
      dir,
      dbPath,
      'project-too-new',
      new RegExp(`schema ${SCHEMA_VERSION + 1}; this version knows up to ${SCHEMA_VERSION}`),
    )
  })
})

describe('migrations', () => {
  it('are numbered 1..n in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
  })

  it('bring a database from every earlier version to the same schema as a new one', () => {
    const dir = temp()
    const fresh = new Database(join(dir, 'fresh.sqlite'))
    migrate(fresh)
    const expected = schemaOf(fresh)
    fresh.close()
    for (let from = 0; from < SCHEMA_VERSION; from++) {
      const db = new Database(join(dir, `from-${from}.sqlite`))
      expect(migrate(db, from)).toEqual({ from: 0, to: from })
      expect(migrate(db)).toEqual({ from, to: SCHEMA_VERSION })
      expect(schemaOf(db)).toEqual(expected)
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION }) // idempotent
      db.close()
    }
  })

  it('an empty (0-byte) project file is initialised, and an old-version file is migrated on open', async () => {
    const dir = await folderWithImage()
    const dbPath = writeFile(dir, '.sam-annotator/project.sqlite', Buffer.alloc(0))
    let project = Project.open(dir)
    expect(project.migratedFrom).toBe(0)
    await project.scan()
    expect(project.listImages()).toHaveLength(1)
    project.close()
    // An older version: here the version before the latest (with one migration, the empty schema).
    const dir2 = await folderWithImage()
    const old = new Database(writeFile(dir2, '.sam-annotator/project.sqlite', Buffer.alloc(0)))
    migrate(old, SCHEMA_VERSION - 1)
    old.close()
    project = Project.open(dir2)
    expect(project.migratedFrom).toBe(SCHEMA_VERSION - 1)
    await project.scan()
    expect(project.counts().images).toBe(1)
    project.close()
    expect(statSync(dbPath).size).toBeGreaterThan(0)
  })
})

describe('two processes', () => {
  function saveLoop(folder: string, count: number): Promise<{ code: number | null; ids: number[]; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [...TSX_ARGS, join(FIXTURES, 'save-loop.ts'), folder, String(count)], {
        cwd: join(import.meta.dirname, '..', '..', '..'),
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      child.on('close', (code) =>
        resolve({
          code,
          stderr: err,
          ids: out
            .split('\n')
            .filter((l) => /^\d+$/.test(l))
            .map(Number),
        }),
      )
    })
  }

  it('write the same project at once without losing or corrupting anything', async () => {
    const dir = await folderWithImage()
    const project = Project.open(dir)
    await project.scan()
    project.close()
    const [a, b] = await Promise.all([saveLoop(dir, 150), saveLoop(dir, 150)])
    expect(a.stderr + b.stderr).toBe('')
    expect([a.code, b.code]).toEqual([0, 0])
    expect(a.ids).toHaveLength(150)
    expect(b.ids).toHaveLength(150)
    const all = new Set([...a.ids, ...b.ids])
    expect(all.size).toBe(300)
    const reopened = Project.open(dir)
    expect([...reopened.iterateAnnotations()].map((x) => x.id).sort((x, y) => x - y)).toEqual(
      [...all].sort((x, y) => x - y),
    )
    expect(reopened.listCategories()).toHaveLength(2)
    reopened.close()
    const db = new Database(join(dir, '.sam-annotator', 'project.sqlite'), { readonly: true })
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    db.close()
  })
})
