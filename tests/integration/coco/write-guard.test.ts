// Exports never overwrite or unlink a project's image, its database or its data folder: real
// folders, real images and a real Project, through the exporters, the CLI and the app's export service.
// Also the one overlap that is welcome: a `dataset/images` project exported to `dataset`.

import { createHash } from 'node:crypto'
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import yaml from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { exportCoco, exportYolo, WriteGuard } from '../../../src-main/core/coco/index.ts'
import { UserError } from '../../../src-main/core/errors.ts'
import { folderKey, Project } from '../../../src-main/core/project/index.ts'
import type { Engine } from '../../../src-main/core/segment/engine.ts'
import { AppServices, type Dialogs } from '../../../src-main/services/app-services.ts'
import { runCli } from '../../helpers/cli.ts'
import { annotationInput, cleanupAfterEach, imageBytes, writeFile } from '../../helpers/project-fixtures.ts'

const { cleanups, temp } = cleanupAfterEach()

interface Fixture {
  /** The project folder. */
  dir: string
  /** Relative path -> bytes written. */
  files: Map<string, Buffer>
  userData: string
}

/** Writes the images, opens the project, reads the headers and saves one annotation on the first image. */
async function makeProject(root: string, rels: string[], userData = temp('sam-guard-userdata-')): Promise<Fixture> {
  const files = new Map<string, Buffer>()
  for (const [i, rel] of rels.entries()) {
    const bytes = await imageBytes('png', 40, 30, i + 1)
    writeFile(root, rel, bytes)
    files.set(rel, bytes)
  }
  const project = Project.open(root, { userDataDir: userData })
  try {
    await project.scan()
    await project.readPendingHeaders()
    const category = await project.ensureCategory('thing')
    await project.saveAnnotation(annotationInput(project.imageByPath(rels[0])!.id, category.id))
  } finally {
    project.close()
  }
  return { dir: project.folder, files, userData }
}

function openProject(fixture: Fixture): Project {
  const project = Project.open(fixture.dir, { userDataDir: fixture.userData })
  cleanups.push(() => project.close())
  return project
}

/** Every entry under `root` with what it is (file hash, link target), the project's data folder left out: SQLite changes it by itself. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name
      if (path === '.sam-annotator') continue
      const full = join(root, path)
      const st = lstatSync(full)
      if (st.isSymbolicLink()) out[path] = `link ${readlinkSync(full)}`
      else if (st.isDirectory()) {
        out[path] = 'dir'
        walk(path)
      } else out[path] = `file ${createHash('sha256').update(readFileSync(full)).digest('hex')}`
    }
  }
  walk('')
  return out
}

function expectImagesIntact(fixture: Fixture): void {
  for (const [rel, bytes] of fixture.files) {
    const file = join(fixture.dir, ...rel.split('/'))
    expect(lstatSync(file).isFile(), rel).toBe(true)
    expect(readFileSync(file).equals(bytes), rel).toBe(true)
  }
}

/** The database still opens with its annotation. */
function expectDatabaseIntact(fixture: Fixture): void {
  const project = Project.open(fixture.dir, { userDataDir: fixture.userData })
  try {
    expect(project.counts().annotations).toBe(1)
  } finally {
    project.close()
  }
}

async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(UserError)
  expect((err as UserError).code).toBe('file-protected')
  expect((err as UserError).message).not.toContain('\n')
  return err as UserError
}

describe('YOLO export', () => {
  it('leaves the images in place for the dataset/images layout exported to dataset', async () => {
    const dataset = temp('sam-guard-dataset-')
    const fixture = await makeProject(join(dataset, 'images'), ['a.png', 'sub/b.png'], join(dataset, 'user-data'))
    for (let run = 0; run < 2; run++) {
      const r = await runCli(['export', fixture.dir, '--yolo', join(fixture.dir, '..')])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`images are already in ${join(dataset, 'images')}; wrote labels only`)
      expectImagesIntact(fixture)
      expect(readFileSync(join(dataset, 'labels', 'a.txt'), 'utf8')).toMatch(/^0( \d\.\d{6}){8}\n$/)
      expect(readFileSync(join(dataset, 'labels', 'sub', 'b.txt'), 'utf8')).toBe('')
      const data = yaml.load(readFileSync(join(dataset, 'data.yaml'), 'utf8')) as {
        path: string
        train: string
        val: string
        names: Record<number, string>
      }
      expect(data).toEqual({ path: dataset, train: 'images', val: 'images', names: { 0: 'thing' } })
    }
    const project = openProject(fixture)
    const result = await exportYolo(project, dataset, { imagesFolder: project.folder })
    expect(result).toMatchObject({ imagesInPlace: true, images: 2, labelFiles: 2, copiedImages: 0 })
    expectImagesIntact(fixture)
  })

  it('refuses an output whose images/ would replace an image in a subfolder, writing nothing', async () => {
    const fixture = await makeProject(temp('sam-guard-sub-'), ['a.png', 'sub/images/a.png'])
    const before = tree(fixture.dir)
    const project = openProject(fixture)
    const err = await refusal(exportYolo(project, join(fixture.dir, 'sub'), { imagesFolder: project.folder }))
    expect(err.message).toBe(
      `${join(fixture.dir, 'sub', 'images', 'a.png')}: would replace the project image sub/images/a.png; choose another output folder`,
    )
    expect(tree(fixture.dir)).toEqual(before)
    project.close()

    const r = await runCli(['export', fixture.dir, '--yolo', join(fixture.dir, 'sub')])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toEqual([`error: ${err.message}`])
    expect(tree(fixture.dir)).toEqual(before)
    expectImagesIntact(fixture)
    expectDatabaseIntact(fixture)
  })

  it('refuses the project data folder as the output folder', async () => {
    const fixture = await makeProject(temp('sam-guard-data-'), ['a.png'])
    const project = openProject(fixture)
    const data = dirname(project.dbPath)
    const names = readdirSync(data).sort()
    const err = await refusal(exportYolo(project, data, { imagesFolder: project.folder }))
    expect(err.message).toMatch(/data\.yaml: is inside the project's data folder .*; choose another output folder$/)
    expect(readdirSync(data).sort()).toEqual(names)
    project.close()
    expectImagesIntact(fixture)
    expectDatabaseIntact(fixture)
  })

  it('refuses when images/ reaches the project images through a symlinked folder', async () => {
    const fixture = await makeProject(temp('sam-guard-ylink-'), ['a.png', 'sub/b.png'])
    const out = temp('sam-guard-yout-')
    mkdirSync(join(out, 'images'))
    symlinkSync(join(fixture.dir, 'sub'), join(out, 'images', 'sub'))
    const project = openProject(fixture)
    const err = await refusal(exportYolo(project, out, { imagesFolder: project.folder }))
    expect(err.message).toContain(`${join(out, 'images', 'sub', 'b.png')}: would replace the project image sub/b.png`)
    expect(readdirSync(out)).toEqual(['images'])
    expect(readdirSync(join(out, 'images'))).toEqual(['sub'])
    expectImagesIntact(fixture)
  })
})

describe('COCO export', () => {
  it('refuses the database, its -wal file, an image, an image through a symlinked folder and the project folder', async () => {
    const fixture = await makeProject(temp('sam-guard-coco-'), ['a.png', 'sub/b.png'])
    const links = temp('sam-guard-links-')
    symlinkSync(join(fixture.dir, 'sub'), join(links, 'sub-link'))
    const project = openProject(fixture)
    const before = tree(fixture.dir)
    const cases: [string, string][] = [
      [project.dbPath, `is the project database (${project.dbPath})`],
      [`${project.dbPath}-wal`, `is part of the project database (${project.dbPath}-wal)`],
      [join(dirname(project.dbPath), 'embeddings', 'x.json'), "is inside the project's data folder"],
      [dirname(project.dbPath), "is the project's data folder"],
      [join(fixture.dir, 'a.png'), 'would replace the project image a.png'],
      [join(links, 'sub-link', 'b.png'), 'would replace the project image sub/b.png'],
      [fixture.dir, `is the project folder ${fixture.dir}`],
    ]
    for (const [target, why] of cases) {
      const err = await refusal(exportCoco(project, target))
      expect(err.message).toContain(`${target}: ${why}`)
      expect(err.message).toMatch(/; choose another output file$/)
    }
    expect(tree(fixture.dir)).toEqual(before)
    project.close()
    expectImagesIntact(fixture)
    expectDatabaseIntact(fixture)
  })

  it.runIf(process.platform === 'darwin' || process.platform === 'win32')(
    'compares names without case where the file system does',
    async () => {
      const fixture = await makeProject(temp('sam-guard-case-'), ['a.png'])
      const project = openProject(fixture)
      await refusal(exportCoco(project, join(fixture.dir, 'A.PNG')))
      expectImagesIntact(fixture)
    },
  )

  it('writes over a hard link or a symlink to an image, which leaves the image alone', async () => {
    const fixture = await makeProject(temp('sam-guard-hard-'), ['a.png', 'sub/b.png'])
    const out = temp('sam-guard-hout-')
    const hard = join(out, 'hard.json')
    const soft = join(out, 'soft.json')
    linkSync(join(fixture.dir, 'a.png'), hard)
    symlinkSync(join(fixture.dir, 'sub', 'b.png'), soft)
    const project = openProject(fixture)
    for (const target of [hard, soft]) {
      const result = await exportCoco(project, target)
      expect(result.annotations).toBe(1)
      expect(lstatSync(target).isFile()).toBe(true)
      expect(JSON.parse(readFileSync(target, 'utf8')).images).toHaveLength(2)
    }
    expectImagesIntact(fixture)
  })

  it('refuses the database of a read-only folder, kept in the user-data folder', async () => {
    const root = temp('sam-guard-ro-')
    const dir = join(root, 'images')
    const userData = join(root, 'user-data')
    const bytes = await imageBytes('png', 40, 30, 3)
    writeFile(dir, 'a.png', bytes)
    // Root can write anywhere, so the database a read-only folder gets is made up front: an
    // existing one in user data is where Project.open looks next.
    const fallback = join(userData, 'projects', folderKey(dir))
    mkdirSync(fallback, { recursive: true })
    writeFileSync(join(fallback, 'project.sqlite'), '')
    chmodSync(dir, 0o555)
    cleanups.push(() => chmodSync(dir, 0o755))
    const project = Project.open(dir, { userDataDir: userData })
    cleanups.push(() => project.close())
    await project.scan()
    await project.readPendingHeaders()
    expect(project.location).toBe('user-data')
    expect(dirname(project.dbPath)).toBe(fallback)
    for (const target of [project.dbPath, join(fallback, 'embeddings', 'cache.json'), join(dir, 'a.png')])
      await refusal(exportCoco(project, target))
    expect(
      new WriteGuard({ folder: project.folder, dbPath: project.dbPath, images: project.listImages() }).protectedBy(
        `${project.dbPath}-shm`,
      ),
    ).toBe(`is part of the project database (${project.dbPath}-shm)`)
    expect(readFileSync(join(dir, 'a.png')).equals(bytes)).toBe(true)
    expect(project.counts().images).toBe(1)
    // Beside the database, outside its folder, is fine.
    expect((await exportCoco(project, join(userData, 'out.json'))).images).toBe(1)
  })

  it('refuses through the CLI with exit code 1 and one error line', async () => {
    const fixture = await makeProject(temp('sam-guard-cli-'), ['a.png', 'sub/b.png'])
    const before = tree(fixture.dir)
    const db = join(fixture.dir, '.sam-annotator', 'project.sqlite')
    for (const [target, pattern] of [
      [db, `is the project database (${db}); choose another output file`],
      [join(fixture.dir, 'sub', 'b.png'), 'would replace the project image sub/b.png; choose another output file'],
    ]) {
      const r = await runCli(['export', fixture.dir, '--coco', target])
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toEqual([`error: ${target}: ${pattern}`])
    }
    expect(tree(fixture.dir)).toEqual(before)
    expectImagesIntact(fixture)
    expectDatabaseIntact(fixture)
  })
})

describe('the app', () => {
  it('refuses a protected path chosen in the export dialogs', async () => {
    const fixture = await makeProject(temp('sam-guard-app-'), ['a.png', 'sub/b.png'])
    const saveFiles: string[] = []
    const folders: string[] = []
    const dialogs: Dialogs = {
      chooseFolder: async () => folders.shift() ?? null,
      chooseSaveFile: async () => saveFiles.shift() ?? null,
      chooseOpenFile: async () => null,
    }
    const services = new AppServices({
      engine: Promise.reject(new Error('no model in this test')) as Promise<Engine>,
      userDataDir: temp('sam-guard-appdata-'),
      dialogs,
      emit: () => {},
      projectUserDataDir: fixture.userData,
      prefetch: 0,
    })
    cleanups.push(() => void services.projects.close())
    await services.projects.openFolder(fixture.dir)
    const db = services.projects.project!.dbPath
    const before = tree(fixture.dir)

    saveFiles.push(db)
    expect((await refusal(services.exports.coco('auto'))).message).toContain(`${db}: is the project database`)
    saveFiles.push(join(fixture.dir, 'a.png'))
    expect((await refusal(services.exports.coco(undefined))).message).toContain('would replace the project image a.png')
    folders.push(dirname(db))
    expect((await refusal(services.exports.yolo())).message).toContain("is inside the project's data folder")

    expect(tree(fixture.dir)).toEqual(before)
    await services.projects.close()
    expectImagesIntact(fixture)
    expectDatabaseIntact(fixture)
  })
})

describe('WriteGuard', () => {
  it('knows every one of 100,000 images in a few folders (its cost is in npm run bench -- export)', () => {
    const folder = temp('sam-guard-many-')
    const images = Array.from({ length: 100_000 }, (_, i) => ({ path: `batch${i % 50}/img${i}.jpg` }))
    const guard = new WriteGuard({ folder, images })
    for (let i = 0; i < 100_000; i += 997)
      expect(guard.protectedBy(join(folder, `batch${i % 50}`, `img${i}.jpg`))).toBe(
        `would replace the project image batch${i % 50}/img${i}.jpg`,
      )
    expect(guard.protectedBy(join(folder, 'batch1', 'other.jpg'))).toBeNull()
  })
})
