// YOLO export all or nothing, and what any export leaves behind: real projects, real folders,
// real failures (an immutable file the swap cannot rename, a full tmpfs), leftovers of killed
// runs, 255-byte names, two CLI exports into one folder at once.

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  closeSync,
  ftruncateSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { exportCoco, exportYolo } from '../../../src-main/core/coco/index.ts'
import { UserError } from '../../../src-main/core/errors.ts'
import { Project } from '../../../src-main/core/project/index.ts'
import { runCli } from '../../helpers/cli.ts'
import { annotationInput, cleanupAfterEach, imageBytes, writeFile } from '../../helpers/project-fixtures.ts'

const { cleanups, temp } = cleanupAfterEach()

/** The leftover names the exporters own: `.sam-annotator-<kind>-<host hash>-<pid>-<8 hex>`. */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8)

/** A pid no process has any more (a child that has exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  return child.pid as number
}

/** Writes 40x30 images, opens the project and saves one rectangle per image in category `thing`. */
async function makeProject(root: string, rels: string[], userData = temp('sam-atomic-userdata-')): Promise<Project> {
  for (const [i, rel] of rels.entries()) writeFile(root, rel, await imageBytes('png', 40, 30, i + 1))
  const project = Project.open(root, { userDataDir: userData })
  cleanups.push(() => project.close())
  await project.scan()
  await project.readPendingHeaders()
  const category = await project.ensureCategory('thing')
  for (const image of project.listImages()) await project.saveAnnotation(annotationInput(image.id, category.id))
  return project
}

/** Changes every label and data.yaml: a new category, and `objects` more objects on every image. */
async function changeProject(project: Project, objects = 1): Promise<void> {
  const other = await project.createCategory({ name: 'other' })
  for (const image of project.listImages())
    for (let i = 0; i < objects; i++) {
      const x = 14 + (i % 20)
      const y = 10 + (i % 15)
      await project.saveAnnotation(
        annotationInput(image.id, other.id, {
          segmentation: [[x, y, x + 5, y, x + 5, y + 4, x, y + 4]],
          bbox: [x, y, 5, 4],
          area: 20,
        }),
      )
    }
}

/** Every entry under `root`, hidden ones included, with what it is (file hash, link target). */
function tree(root: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name
      if (skip.includes(path)) continue
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

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('.sam-annotator-'))
}

async function failure(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(UserError)
  expect((err as UserError).message).not.toContain('\n')
  return err as UserError
}

/** chattr +i `path` (even root cannot rename or replace it then); null when this file system has no such flag. */
function makeImmutable(path: string): (() => void) | null {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' })
  } catch {
    return null
  }
  const undo = (): void => void spawnSync('chattr', ['-i', path])
  cleanups.push(undo)
  return undo
}

describe('YOLO export, all or nothing', () => {
  for (const layout of ['links', 'images in place'] as const) {
    it(`leaves the previous export byte-identical when the swap fails part-way (${layout})`, async (ctx) => {
      const dataset = temp('sam-atomic-swap-')
      const folder = layout === 'links' ? join(dataset, 'project') : join(dataset, 'images')
      const out = layout === 'links' ? join(dataset, 'out') : dataset
      const project = await makeProject(folder, ['a.png', 'sub/b.png', 'sub/deeper/c.png'])
      const first = await exportYolo(project, out, { imagesFolder: project.folder })
      expect(first.imagesInPlace).toBe(layout === 'images in place')
      // The in-place layout's image folder holds the project database, which SQLite changes itself.
      const skip = layout === 'links' ? [] : ['images/.sam-annotator']
      const before = tree(out, skip)
      await changeProject(project)
      // data.yaml is swapped last: labels/ and images/ are already in place when its rename fails.
      const undo = makeImmutable(join(out, 'data.yaml'))
      if (!undo) return ctx.skip('chattr +i is not supported on this file system')
      const err = await failure(exportYolo(project, out, { imagesFolder: project.folder }))
      expect(err.message).toContain(join(out, 'data.yaml'))
      undo()
      expect(tree(out, skip)).toEqual(before)
      expect(leftovers(out)).toEqual(['.sam-annotator-export.json'])

      // The next export goes through and is this project's dataset.
      await exportYolo(project, out, { imagesFolder: project.folder })
      expect(readFileSync(join(out, 'labels', 'sub', 'b.txt'), 'utf8').split('\n')).toHaveLength(3)
      expect((yaml.load(readFileSync(join(out, 'data.yaml'), 'utf8')) as { names: object }).names).toEqual({
        0: 'thing',
        1: 'other',
      })
      expect(leftovers(out)).toEqual(['.sam-annotator-export.json'])
    })
  }

  it('removes the previous export’s stale labels and links, and keeps files no export wrote', async () => {
    const root = temp('sam-atomic-stale-')
    const out = join(root, 'out')
    const one = await makeProject(join(root, 'one'), ['a.png', 'gone/x.png', 'gone/y.png'])
    await exportYolo(one, out, { imagesFolder: one.folder })
    writeFile(out, 'labels/README.md', 'my notes')
    writeFile(out, 'labels/gone/mine.txt', 'my label')
    writeFile(out, 'images/extra/photo.jpg', 'my photo')
    writeFile(out, 'notes.txt', 'beside the dataset')
    const two = await makeProject(join(root, 'two'), ['a.png', 'b.png'])
    await exportYolo(two, out, { imagesFolder: two.folder })
    const files = Object.entries(tree(out))
      .filter(([, what]) => what !== 'dir')
      .map(([path]) => path)
    expect(files.sort()).toEqual(
      [
        '.sam-annotator-export.json',
        'data.yaml',
        'images/a.png',
        'images/b.png',
        'images/extra/photo.jpg',
        'labels/README.md',
        'labels/a.txt',
        'labels/b.txt',
        'labels/gone/mine.txt',
        'notes.txt',
      ].sort(),
    )
    expect(readFileSync(join(out, 'labels', 'gone', 'mine.txt'), 'utf8')).toBe('my label')
    expect(readlinkSync(join(out, 'images', 'a.png'))).toBe(join(two.folder, 'a.png'))
  })

  it('exports an image whose name is 255 bytes, and COCO to a 255-byte file name', async () => {
    const root = temp('sam-atomic-long-')
    const name = `${'n'.repeat(251)}.png`
    const project = await makeProject(join(root, 'project'), [name, 'short.png'])
    const out = join(root, 'out')
    const result = await exportYolo(project, out, { imagesFolder: project.folder })
    expect(result.images).toBe(2)
    expect(readFileSync(join(out, 'labels', `${'n'.repeat(251)}.txt`), 'utf8')).toMatch(/^0( \d\.\d{6}){8}\n$/)
    expect(readlinkSync(join(out, 'images', name))).toBe(join(project.folder, name))
    const json = join(root, `${'c'.repeat(250)}.json`)
    expect((await exportCoco(project, json)).images).toBe(2)
    expect(JSON.parse(readFileSync(json, 'utf8')).images).toHaveLength(2)
    expect(readdirSync(root).sort()).toEqual(['c'.repeat(250) + '.json', 'out', 'project'].sort())
  })

  it('rolls back and removes what a killed export left, and leaves a live one alone', async () => {
    const root = temp('sam-atomic-killed-')
    const out = join(root, 'out')
    const project = await makeProject(join(root, 'project'), ['a.png', 'b.png'])
    await exportYolo(project, out, { imagesFolder: project.folder })
    writeFile(out, 'labels/notes.md', 'my notes')
    // Killed in the middle of its swap: it had carried the user's notes into its staged labels/
    // and had not swapped labels/ yet. Only its journal says where the notes belong.
    const dead = deadPid()
    const killed = join(out, `.sam-annotator-staging-${HOST}-${dead}-0badf00d`)
    writeFile(killed, 'labels/a.txt', '0 0.1 0.1 0.2 0.1 0.2 0.2\n')
    writeFile(killed, 'labels/notes.md', 'my notes')
    rmSync(join(out, 'labels', 'notes.md'))
    writeFile(
      killed,
      'journal.json',
      JSON.stringify({
        entries: [
          { name: 'labels', hadOld: true },
          { name: 'images', hadOld: true },
          { name: 'data.yaml', hadOld: true },
          { name: '.sam-annotator-export.json', hadOld: true },
        ],
        kept: ['labels/notes.md'],
      }),
    )
    // Killed while writing its staging folder (no journal yet), and a dead temp file.
    writeFile(out, `.sam-annotator-staging-${HOST}-${dead}-0badcafe/labels/b.txt`, '')
    writeFile(out, `.sam-annotator-tmp-${HOST}-${dead}-deadbeef`, '{"partial')
    // Held by a live process, and one from another machine sharing the folder: not ours to remove.
    const sleeper = spawn('sleep', ['60'])
    cleanups.push(() => void sleeper.kill())
    const live = `.sam-annotator-staging-${HOST}-${sleeper.pid}-00c0ffee`
    const foreign = `.sam-annotator-tmp-ffffffff-${dead}-00000001`
    mkdirSync(join(out, live))
    writeFileSync(join(out, foreign), '')

    await exportYolo(project, out, { imagesFolder: project.folder })
    expect(leftovers(out).sort()).toEqual(['.sam-annotator-export.json', live, foreign].sort())
    expect(readFileSync(join(out, 'labels', 'notes.md'), 'utf8')).toBe('my notes')
    expect(readFileSync(join(out, 'labels', 'a.txt'), 'utf8')).toMatch(/^0( \d\.\d{6}){8}\n$/)

    // A COCO export cleans dead temp files beside its file the same way.
    const coco = join(root, 'coco')
    mkdirSync(coco)
    writeFileSync(join(coco, `.sam-annotator-tmp-${HOST}-${dead}-deadbeef`), '{"partial')
    await exportCoco(project, join(coco, 'out.json'))
    expect(readdirSync(coco)).toEqual(['out.json'])
  })

  it('lets two CLI exports into one folder run at once; the folder ends as one whole export', async () => {
    const root = temp('sam-atomic-twice-')
    const one = await makeProject(join(root, 'one'), ['a.png', 'b.png', 'c.png'])
    const two = await makeProject(join(root, 'two'), ['x.png', 'y.png'])
    one.close()
    two.close()
    const out = join(root, 'out')
    const runs = await Promise.all([
      runCli(['export', join(root, 'one'), '--yolo', out]),
      runCli(['export', join(root, 'two'), '--yolo', out]),
    ])
    for (const r of runs) {
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    }
    expect(leftovers(out)).toEqual(['.sam-annotator-export.json'])
    const labels = readdirSync(join(out, 'labels')).sort()
    const images = readdirSync(join(out, 'images')).sort()
    expect([
      ['a.txt', 'b.txt', 'c.txt'],
      ['x.txt', 'y.txt'],
    ]).toContainEqual(labels)
    expect(images.map((n) => n.replace('.png', '.txt'))).toEqual(labels)
  })
})

describe('a full disk', () => {
  it('fails with one line and exit 1, leaving the previous export as it was (a tiny tmpfs)', async (ctx) => {
    const root = temp('sam-atomic-full-')
    const disk = join(root, 'disk')
    mkdirSync(disk)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk], { stdio: 'pipe' })
    } catch (e) {
      return ctx.skip(`cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`)
    }
    cleanups.push(() => void spawnSync('umount', [disk]))
    const folder = join(root, 'project')
    const project = await makeProject(folder, ['a.png', 'b.png', 'c.png', 'd.png', 'e.png', 'f.png'])
    const out = join(disk, 'out')
    await exportYolo(project, out, { imagesFolder: project.folder })
    const before = tree(out)
    // Labels of more than a page each (the first export's took one), so the disk runs out
    // part-way through them.
    await changeProject(project, 60)

    // Fill the disk, then free two pages: the export gets part-way before it runs out.
    const filler = join(disk, 'filler')
    const fd = openSync(filler, 'w')
    const block = Buffer.alloc(4096, 1)
    try {
      for (;;) writeSync(fd, block)
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC')
    }
    ftruncateSync(fd, Math.max(0, fstatSync(fd).size - 2 * 4096))
    closeSync(fd)

    const err = await failure(exportYolo(project, out, { imagesFolder: project.folder }))
    expect(err.code).toBe('disk-full')
    expect(err.message).toMatch(new RegExp(`^the disk is full \\(${out}[^)]*\\): nothing was written$`))
    expect(tree(out)).toEqual(before)
    expect(leftovers(out)).toEqual(['.sam-annotator-export.json'])

    project.close()
    const yolo = await runCli(['export', folder, '--yolo', out])
    expect(yolo.code).toBe(1)
    expect(yolo.stdout).toBe('')
    expect(yolo.stderr).toMatch(new RegExp(`^error: the disk is full \\(${out}[^)]*\\): nothing was written\\n$`))
    expect(tree(out)).toEqual(before)

    // COCO says the same, and leaves no temp file.
    const coco = join(disk, 'labels.json')
    // Take the last pages too: the JSON of six annotations is smaller than what was left.
    const rest = openSync(join(disk, 'rest'), 'w')
    try {
      for (;;) writeSync(rest, Buffer.alloc(512, 1))
    } catch {
      // full
    }
    closeSync(rest)
    const r = await runCli(['export', folder, '--coco', coco])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`error: the disk is full (${coco}): nothing was written\n`)
    expect(readdirSync(disk).sort()).toEqual(['filler', 'out', 'rest'])

    // With room again, the export goes through.
    unlinkSync(filler)
    unlinkSync(join(disk, 'rest'))
    const ok = await runCli(['export', folder, '--yolo', out])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(tree(out)).not.toEqual(before)
  })
})

describe('a name too long for the file system', () => {
  it('is one error line naming the path, exit 1, for COCO and YOLO alike', async () => {
    const root = temp('sam-atomic-toolong-')
    const project = await makeProject(join(root, 'project'), ['a.png'])
    project.close()
    const coco = join(root, `${'c'.repeat(256)}.json`)
    const yolo = join(root, 'y'.repeat(256))
    for (const [args, path] of [
      [['--coco', coco], coco],
      [['--yolo', yolo], yolo],
    ] as const) {
      const r = await runCli(['export', join(root, 'project'), ...args])
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe(`error: ${path}: the name is too long for this file system; nothing was written\n`)
    }
    expect(readdirSync(root)).toEqual(['project'])
  })
})
