// The project commands of the CLI as a user runs them: open (summary, rescan) and annotate
// (segment with the demo model and save), through bin/sam-annotator.js on real files.

import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_MODEL, runCli } from '../helpers/cli.ts'
import { errorLine } from '../helpers/project-fixtures.ts'
import { Project } from '../../src-main/core/project/index.ts'

const folder = mkdtempSync(join(tmpdir(), 'sam-cli-project-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

const cli = (...args: string[]) => runCli(args)
/** `annotate` one point on an image of the test folder with the demo model. */
const annotate = (image: string, category: string, point: string, ...more: string[]) =>
  cli('annotate', folder, '--image', image, '--category', category, '--point', point, '--model', DEMO_MODEL, ...more)

beforeAll(async () => {
  const w = 800
  const h = 500
  const raw = Buffer.alloc(w * h * 3, 230)
  for (let y = 120; y < 380; y++) for (let x = 150; x < 450; x++) raw.set([200, 40, 40], (y * w + x) * 3)
  mkdirSync(join(folder, 'set'))
  for (const name of ['img1.png', 'set/img2.png', 'set/img10.png']) {
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(join(folder, name))
  }
  writeFileSync(join(folder, 'broken.jpg'), 'not an image')
})

describe('sam-annotator open / annotate', () => {
  it('open creates the project and prints a summary with unreadable images counted', async () => {
    const r = await cli('open', folder, '--json')
    expect(r.code).toBe(0)
    const summary = JSON.parse(r.stdout)
    expect(summary).toMatchObject({ images: 4, missing: 0, unreadable: 1, annotations: 0, location: 'folder' })
    expect(summary.database).toBe(join(folder, '.sam-annotator', 'project.sqlite'))
    const text = await cli('open', folder)
    expect(text.stdout).toMatch(/images 4 \(missing 0, unreadable 1\)/)
  })

  it('annotate segments, creates the category and saves one annotation', async () => {
    const r = await annotate('set/img10.png', 'red box', '300,250', '--json')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.category).toBe('red box')
    expect(out.image).toBe('set/img10.png')
    expect(out.annotation.area / (300 * 260)).toBeGreaterThan(0.95)
    expect(out.annotation.area / (300 * 260)).toBeLessThan(1.05)
    expect(out.annotation.prompt.points).toEqual([{ x: 300, y: 250, label: 1 }])
    expect(out.annotation.modelId).toBe('demo')
    expect(out.embedding).toBe('encoder')
    // The second object on the same image reuses the embedding cached on disk.
    const again = JSON.parse((await annotate('set/img10.png', 'red box', '200,200', '--json')).stdout)
    expect(again.embedding).toBe('disk')
    expect(again.annotation.area).toBe(out.annotation.area)

    const project = Project.open(folder)
    try {
      const image = project.imageByPath('set/img10.png')!
      const saved = project.listAnnotations(image.id)
      expect(saved.map((a) => a.id)).toEqual([out.annotation.id, again.annotation.id])
      expect(project.listCategories().map((c) => c.name)).toEqual(['red box'])
    } finally {
      project.close()
    }
    const summary = await cli('open', folder)
    expect(summary.stdout).toMatch(/red box: 2/)
  })

  it('annotate whose save fails leaves nothing behind, not even the category it created', async () => {
    // A real SQLite failure on the annotation insert, as a full disk would give one: the
    // category created just before it in the same command must go too.
    const database = join(folder, '.sam-annotator', 'project.sqlite')
    const db = new Database(database)
    db.exec(`CREATE TRIGGER refuse_annotations BEFORE INSERT ON annotations BEGIN SELECT RAISE(ABORT, 'no room'); END`)
    db.close()
    try {
      const r = await annotate('img1.png', 'never created', '300,250')
      expect(r.code).not.toBe(0)
      const check = new Database(database, { readonly: true })
      const names = check.prepare('SELECT name FROM categories').all() as { name: string }[]
      check.close()
      expect(names.map((c) => c.name)).not.toContain('never created')
    } finally {
      const cleanup = new Database(database)
      cleanup.exec('DROP TRIGGER refuse_annotations')
      cleanup.close()
    }
  })

  it('exports COCO and YOLO, and imports the COCO file into another folder', async () => {
    const out = join(folder, 'export', 'coco.json')
    mkdirSync(join(folder, 'export'))
    const r = await cli('export', folder, '--coco', out)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/2 annotations/)
    expect(r.stderr).toMatch(/broken\.jpg/) // the unreadable image is reported, not exported
    const coco = JSON.parse(readFileSync(out, 'utf8'))
    expect(coco.images.map((i: { file_name: string }) => i.file_name)).toEqual([
      'img1.png',
      'set/img2.png',
      'set/img10.png',
    ])
    expect(coco.categories).toEqual([{ id: expect.any(Number), name: 'red box', supercategory: expect.any(String) }])
    expect(coco.annotations).toHaveLength(2)
    expect(coco.annotations[0]).toMatchObject({ iscrowd: 0, image_id: coco.images[2].id })

    const yolo = join(folder, 'export', 'yolo')
    expect((await cli('export', folder, '--yolo', yolo)).code).toBe(0)
    const label = readFileSync(join(yolo, 'labels', 'set', 'img10.txt'), 'utf8')
      .trim()
      .split('\n')
    expect(label).toHaveLength(2)
    expect(label[0]).toMatch(/^0( 0\.\d+ 0\.\d+){3,}$/)
    expect(readFileSync(join(yolo, 'data.yaml'), 'utf8')).toMatch(/red box/)

    const other = mkdtempSync(join(tmpdir(), 'sam-cli-import-'))
    try {
      mkdirSync(join(other, 'set'))
      copyFileSync(join(folder, 'set', 'img10.png'), join(other, 'set', 'img10.png'))
      const imported = await cli('import', other, '--coco', out, '--json')
      expect(imported.code).toBe(0)
      expect(JSON.parse(imported.stdout)).toMatchObject({
        imported: 2,
        matchedImages: 1,
        categoriesCreated: ['red box'],
      })
      writeFileSync(join(other, 'bad.json'), JSON.stringify({ images: [], categories: [{ id: 1 }], annotations: [] }))
      const bad = await cli('import', other, '--coco', join(other, 'bad.json'))
      expect(bad.code).toBe(1)
      expect(bad.stderr.trim().split('\n')).toHaveLength(1)
      expect(bad.stderr).toMatch(/bad\.json: categories\[0\]/)
    } finally {
      rmSync(other, { recursive: true, force: true })
    }
  })

  it('a moved file keeps its annotations; a deleted one is reported missing, annotations kept', async () => {
    renameSync(join(folder, 'set', 'img10.png'), join(folder, 'moved.png'))
    const r = JSON.parse((await cli('open', folder, '--json')).stdout)
    expect(r).toMatchObject({ images: 4, missing: 0, annotations: 2 })
    rmSync(join(folder, 'moved.png'))
    const gone = JSON.parse((await cli('open', folder, '--json')).stdout)
    expect(gone).toMatchObject({ missing: 1, annotations: 2 })
  })

  it('refuses bad input with one line naming the value', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['annotate', folder, '--image', 'nope.png', '--category', 'x', '--point', '1,1', '--model', DEMO_MODEL],
        /nope\.png: not an image of the project/,
      ],
      [
        ['annotate', folder, '--image', 'broken.jpg', '--category', 'x', '--point', '1,1', '--model', DEMO_MODEL],
        /broken\.jpg/,
      ],
      [['annotate', folder, '--image', 'img1.png', '--point', '1,1'], /--category/],
      [
        ['annotate', folder, '--image', 'img1.png', '--category', 'x', '--point', '900,10', '--model', DEMO_MODEL],
        /900,10 is outside the 800x500 image/,
      ],
      [['open', join(folder, 'no-such-dir')], /no-such-dir/],
    ]
    for (const [args, pattern] of cases) {
      const r = await cli(...args)
      expect({ args, code: r.code }).toEqual({ args, code: 1 })
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(pattern)
    }
  })
})

describe('sam-annotator open: what the scan skips', () => {
  const NOBODY = 65534

  it('names a sub-folder it may not read (EACCES) and a file name that is not UTF-8, and still opens', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'sam-cli-skip-'))
    const locked = join(dir, 'locked')
    try {
      // As root every folder is readable: the CLI then runs as "nobody", who needs to reach
      // the folder and write its project database.
      const asRoot = process.getuid?.() === 0
      chmodSync(dir, 0o777)
      const png = readFileSync(join(folder, 'img1.png'))
      writeFileSync(join(dir, 'ok.png'), png)
      writeFileSync(Buffer.from(`${dir}/caf\xe9.png`, 'latin1'), png)
      mkdirSync(locked)
      writeFileSync(join(locked, 'in.png'), png)
      chmodSync(locked, 0o000)
      const run = (...args: string[]) => runCli(args, asRoot ? { asUser: { uid: NOBODY, home: dir } } : {})
      if (asRoot) {
        const probe = await run('--help')
        if (probe.code !== 0)
          ctx.skip(
            `running as root, and uid ${NOBODY} cannot run the CLI from this checkout: ${errorLine(probe.stderr)}`,
          )
      }
      const r = await run('open', dir)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/images 1 \(missing 0, unreadable 0\)/)
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        'skipped 2 file(s) or folder(s) the scan cannot list:',
        '  caf\\xE9.png: the file name is not valid UTF-8, so it cannot be stored and opened again (rename it)',
        '  locked: cannot read the folder (permission denied); its images are not listed',
      ])
      // --json keeps stdout to the JSON; the warnings stay on stderr.
      const json = await run('open', dir, '--json')
      expect(JSON.parse(json.stdout)).toMatchObject({ images: 1 })
      expect(json.stderr).toMatch(/^skipped 2 file\(s\) or folder\(s\) the scan cannot list:/)
    } finally {
      chmodSync(locked, 0o755)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
