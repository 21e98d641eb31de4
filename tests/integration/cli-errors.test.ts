// Bad input the CLI must refuse with exit 1 and one line naming the file or value, never a
// stack trace (exit 2) or a crash: unreadable images, COCO files nested thousands of levels
// deep, damaged project databases, command lines long enough to crash onnxruntime. Each case
// runs the real CLI (bin/sam-annotator.js in a child process); a database involved must be
// byte-for-byte what it was before.

import Database from 'better-sqlite3'
import { execFile } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { parseCocoText } from '../../src-main/core/coco/coco-parse.ts'
import { UserError } from '../../src-main/core/errors.ts'
import { Project } from '../../src-main/core/project/index.ts'
import { checkPrompt } from '../../src-main/core/segment/prompt.ts'
import { MAX_PROMPT_POINTS } from '../../src-preload/contract/limits.ts'
import { CONTRACT } from '../../src-preload/contract/index.ts'
import { DEMO_MODEL, ROOT, runCli, type CliResult } from '../helpers/cli.ts'
import { errorLine } from '../helpers/project-fixtures.ts'

const execFileAsync = promisify(execFile)
const BIN = join(ROOT, 'bin', 'sam-annotator.js')
const NOBODY = 65534

const dir = mkdtempSync(join(tmpdir(), 'sam-cli-errors-'))
// World-searchable, for the cases run as "nobody" (mkdtemp makes it 0700).
chmodSync(dir, 0o755)
afterAll(() => {
  const locked = join(dir, 'locked')
  if (existsSync(locked)) chmodSync(locked, 0o755) // or a non-root user could not remove it
  rmSync(dir, { recursive: true, force: true })
})

const cli = (...args: string[]) => runCli(args, { cwd: dir })

/** Runs the CLI as uid "nobody": root reads any file, so only another user meets EACCES. */
async function cliAsNobody(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [BIN, ...args], {
      cwd: dir,
      uid: NOBODY,
      gid: NOBODY,
      env: { ...process.env, HOME: dir },
      maxBuffer: 64 << 20,
    })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

/**
 * The runner that meets file permissions: the CLI as this user, or as "nobody" when the tests
 * run as root. Skips the test, saying why, when "nobody" cannot run the CLI from this checkout.
 */
async function permissionRespectingCli(ctx: {
  skip: (note?: string) => void
}): Promise<(...args: string[]) => Promise<CliResult>> {
  if (process.getuid?.() !== 0) return cli
  const probe = await cliAsNobody('--help')
  if (probe.code !== 0)
    ctx.skip(`running as root, and uid ${NOBODY} cannot run the CLI from this checkout: ${errorLine(probe.stderr)}`)
  return cliAsNobody
}

/** Exit 1 and exactly one stderr line, `error: ...` matching `pattern`, with no stack frames. */
function expectOneLine(r: CliResult, pattern: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n')
  expect({ code: r.code, lines }).toEqual({ code: 1, lines: [expect.stringMatching(/^error: /)] })
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/^\s+at /m)
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

let image = ''
beforeAll(async () => {
  image = join(dir, 'img.png')
  await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .png()
    .toFile(image)
})

describe('unreadable images', () => {
  it('a missing file, a folder given as the image', async () => {
    expectOneLine(
      await cli('segment', join(dir, 'missing.png'), '--point', '1,1', '--model', DEMO_MODEL),
      /missing\.png: file not found/,
    )
    const folder = join(dir, 'a-folder')
    mkdirSync(folder)
    expectOneLine(
      await cli('segment', folder, '--point', '1,1', '--model', DEMO_MODEL),
      new RegExp(`${escape(folder)}: not a file \\(it is a folder\\)`),
    )
  })

  it('a file without read permission, and a file in a folder without permission (EACCES)', async (ctx) => {
    const run = await permissionRespectingCli(ctx)
    const noRead = join(dir, 'no-read.png')
    writeFileSync(noRead, readFileSync(image))
    chmodSync(noRead, 0o000)
    const locked = join(dir, 'locked')
    mkdirSync(locked)
    writeFileSync(join(locked, 'img.png'), readFileSync(image))
    chmodSync(locked, 0o000)
    expectOneLine(
      await run('segment', noRead, '--point', '1,1', '--model', DEMO_MODEL),
      /no-read\.png: permission denied/,
    )
    expectOneLine(
      await run('segment', join(locked, 'img.png'), '--point', '1,1', '--model', DEMO_MODEL),
      /locked\/img\.png: permission denied/,
    )
  })
})

describe('COCO files', () => {
  let folder = ''
  let dbPath = ''
  beforeAll(async () => {
    folder = join(dir, 'coco-project')
    mkdirSync(folder)
    writeFileSync(join(folder, 'a.png'), readFileSync(image))
    const project = Project.open(folder)
    await project.scan()
    await project.readPendingHeaders()
    dbPath = project.dbPath
    project.close()
  })

  function cocoWith(segmentation: string, more: { fileName?: string; categoryName?: string } = {}): string {
    return (
      `{"images":[{"id":1,"file_name":${more.fileName ?? '"a.png"'},"width":40,"height":30}],` +
      `"categories":[{"id":1,"name":${more.categoryName ?? '"thing"'}}],` +
      `"annotations":[{"id":7,"image_id":1,"category_id":1,"segmentation":${segmentation}}]}`
    )
  }

  const deep = (levels: number, inner = '') => '['.repeat(levels) + inner + ']'.repeat(levels)

  it('refuses values nested thousands of levels deep, naming the file and the entry', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'polygon.json',
        cocoWith(deep(100_000)),
        /annotations\[0\] \(id 7\): segmentation polygon value 0 \(\[\[\[\[\.\.\.\]\]\]\]\) is not a finite number/,
      ],
      [
        'rle-counts.json',
        cocoWith(`{"size":[30,40],"counts":${deep(20_000, '1')}}`),
        /annotations\[0\] \(id 7\): segmentation RLE counts value 0 .* is not an integer >= 0/,
      ],
      [
        'rle-size.json',
        cocoWith(`{"size":${deep(20_000)},"counts":"x"}`),
        /annotations\[0\] \(id 7\): segmentation RLE size .* is not \[height, width\]/,
      ],
      [
        'file-name.json',
        cocoWith('[]', { fileName: deep(20_000) }),
        /images\[0\] \(id 1\): file_name .* is missing or empty/,
      ],
      [
        'category.json',
        cocoWith('[]', { categoryName: `{"a":${deep(20_000)}}` }),
        /categories\[0\] \(id 1\): name .* is not a non-empty text/,
      ],
    ]
    for (const [name, text, pattern] of cases) {
      const file = join(dir, name)
      writeFileSync(file, text)
      const before = readFileSync(dbPath)
      const r = await cli('import', folder, '--coco', file)
      expectOneLine(r, new RegExp(`${escape(file)}: ${pattern.source}`))
      expect(readFileSync(dbPath).equals(before), name).toBe(true)
    }
  })

  it('a folder, a missing file and a file that is not JSON, each named', async () => {
    expectOneLine(
      await cli('import', folder, '--coco', dir),
      new RegExp(`${escape(dir)}: cannot read the COCO file \\(it is a folder, not a file\\)`),
    )
    expectOneLine(
      await cli('import', folder, '--coco', join(dir, 'nope.json')),
      /nope\.json: cannot read the COCO file \(not found\)/,
    )
    writeFileSync(join(dir, 'half.json'), '{"images": [')
    expectOneLine(await cli('import', folder, '--coco', join(dir, 'half.json')), /half\.json: not valid JSON/)
  })
})

describe('project databases', () => {
  /** A project folder with its database created and closed, and what the database holds. */
  async function project(name: string): Promise<{ folder: string; dbPath: string }> {
    const folder = join(dir, name)
    mkdirSync(folder)
    writeFileSync(join(folder, 'a.png'), readFileSync(image))
    const p = Project.open(folder)
    await p.scan()
    const dbPath = p.dbPath
    p.close()
    return { folder, dbPath }
  }

  /** Every project command refuses the folder with the same line, and the file stays as it was. */
  async function expectRefused(folder: string, dbPath: string, pattern: RegExp): Promise<void> {
    const before = readFileSync(dbPath)
    const line = new RegExp(`^error: ${escape(dbPath)}: ${pattern.source}`)
    expectOneLine(await cli('open', folder), line)
    expectOneLine(
      await cli('annotate', folder, '--image', 'a.png', '--category', 'x', '--point', '1,1', '--model', DEMO_MODEL),
      line,
    )
    expect(readFileSync(dbPath).equals(before)).toBe(true)
  }

  it('refuses PRAGMA user_version = -1 and leaves the file untouched', async () => {
    const { folder, dbPath } = await project('version-minus-one')
    const db = new Database(dbPath)
    db.pragma('user_version = -1')
    db.close()
    await expectRefused(
      folder,
      dbPath,
      /the project database is damaged \(schema version -1 is not one SAM Annotator writes\)/,
    )
  })

  it('refuses a database with a table dropped, naming the table', async () => {
    const { folder, dbPath } = await project('dropped-table')
    const db = new Database(dbPath)
    db.exec('DROP TABLE annotations')
    db.close()
    await expectRefused(folder, dbPath, /the project database is damaged \(incomplete: table annotations is missing\)/)
  })

  it('refuses a database file without read permission (EACCES)', async (ctx) => {
    const run = await permissionRespectingCli(ctx)
    const { folder, dbPath } = await project('unreadable-database')
    // The folders writable by whoever runs it, so only the file itself is in the way.
    chmodSync(folder, 0o777)
    chmodSync(join(folder, '.sam-annotator'), 0o777)
    chmodSync(dbPath, 0o000)
    const before = readFileSync(dbPath)
    expectOneLine(
      await run('open', folder),
      new RegExp(`^error: ${escape(dbPath)}: cannot read the project database \\(permission denied\\)`),
    )
    expect(readFileSync(dbPath).equals(before)).toBe(true)
  })

  it('refuses a folder where the database file should be', async () => {
    const folder = join(dir, 'folder-as-database')
    mkdirSync(join(folder, '.sam-annotator', 'project.sqlite'), { recursive: true })
    writeFileSync(join(folder, 'a.png'), readFileSync(image))
    const dbPath = join(folder, '.sam-annotator', 'project.sqlite')
    expectOneLine(
      await cli('open', folder),
      new RegExp(`^error: ${escape(dbPath)}: the project database is a folder, not a file`),
    )
  })

  it('a completely full disk says so, even for an export written to another disk (a tiny tmpfs)', async (ctx) => {
    const disk = join(dir, 'full-disk')
    mkdirSync(disk)
    try {
      await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk])
    } catch (e) {
      return ctx.skip(`cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`)
    }
    try {
      writeFileSync(join(disk, 'a.png'), readFileSync(image))
      expect((await cli('open', disk)).code).toBe(0)
      // Every byte taken: SQLite cannot even create the -shm index it needs to open the project.
      try {
        writeFileSync(join(disk, 'filler'), Buffer.alloc(4 * 1024 * 1024, 1))
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC')
      }
      const dbPath = join(disk, '.sam-annotator', 'project.sqlite')
      const full = new RegExp(`^error: ${escape(dbPath)}: the disk is full, so the project database cannot be opened`)
      expectOneLine(await cli('export', disk, '--coco', join(dir, 'from-full-disk.json')), full)
      expectOneLine(await cli('open', disk), full)
    } finally {
      await execFileAsync('umount', [disk])
    }
  })

  it('a nearly full disk: annotate and a rescan say so and leave nothing behind (a tiny tmpfs)', async (ctx) => {
    const disk = join(dir, 'nearly-full-disk')
    mkdirSync(disk)
    try {
      await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk])
    } catch (e) {
      return ctx.skip(`cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`)
    }
    try {
      writeFileSync(join(disk, 'a.png'), readFileSync(image))
      expect((await cli('open', disk)).code).toBe(0)
      writeFileSync(join(disk, 'b.png'), readFileSync(image))
      // Room to open the project (its 32 KB shared-memory index) but not to write to it.
      const filler = join(disk, 'filler')
      try {
        writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024, 1))
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC')
      }
      truncateSync(filler, statSync(filler).size - 40 * 1024)
      const dbPath = join(disk, '.sam-annotator', 'project.sqlite')
      const full = new RegExp(`^error: ${escape(dbPath)}: the disk is full; the change was not saved`)
      expectOneLine(
        await cli(
          'annotate',
          disk,
          '--image',
          'a.png',
          '--category',
          'new-one',
          '--point',
          '5,5',
          '--model',
          DEMO_MODEL,
        ),
        full,
      )
      expectOneLine(await cli('open', disk), full)
      rmSync(filler)
      // Neither the annotation nor the category it would have created was kept.
      const db = new Database(dbPath, { readonly: true })
      try {
        expect(db.prepare('SELECT count(*) AS n FROM annotations').get()).toEqual({ n: 0 })
        expect(db.prepare('SELECT count(*) AS n FROM categories').get()).toEqual({ n: 0 })
      } finally {
        db.close()
      }
      const reopened = await cli('open', disk)
      expect(reopened.code).toBe(0)
      expect(reopened.stdout).toMatch(/images 2 \(missing 0, unreadable 0\)/)
    } finally {
      await execFileAsync('umount', [disk])
    }
  })
})

describe('long command lines', () => {
  it('refuses thousands of points with the limit, before onnxruntime is loaded', async () => {
    // 3000 points made a 36,000-character command line: onnxruntime crashed with SIGSEGV.
    const many = Array.from({ length: 3000 }, () => ['--point', '5,5']).flat()
    expectOneLine(
      await cli('segment', image, ...many, '--model', DEMO_MODEL),
      new RegExp(`--point: given 3000 times; a prompt takes at most ${MAX_PROMPT_POINTS} points`),
    )
    const oneTooMany = Array.from({ length: MAX_PROMPT_POINTS + 1 }, () => ['--point', '5,5']).flat()
    expectOneLine(
      await cli('segment', image, ...oneTooMany, '--model', DEMO_MODEL),
      new RegExp(`given ${MAX_PROMPT_POINTS + 1} times`),
    )
    const folder = join(dir, 'annotate-points')
    mkdirSync(folder)
    expectOneLine(
      await cli('annotate', folder, '--image', 'a.png', '--category', 'x', ...oneTooMany),
      /--point: given 65 times/,
    )
  })

  it('refuses one over-long argument, naming its option and the limit', async () => {
    expectOneLine(
      await cli('segment', image, '--point', '5,5', '--model', 'm'.repeat(40_000)),
      /^error: --model: 'm{40}\.\.\.' is 40000 characters; an argument may have at most 4096$/,
    )
    expectOneLine(
      await cli('segment', image, '--point', '5,5', `--model=${'m'.repeat(5000)}`),
      /^error: --model: .* is 5008 characters/,
    )
    expectOneLine(
      await cli('segment', `${'x'.repeat(5000)}.png`, '--point', '5,5'),
      /^error: argument 2: 'x{40}\.\.\.' is 5004 characters/,
    )
    expectOneLine(await cli('import', dir, '--coco', `${'c'.repeat(4097)}`), /^error: --coco: .* is 4097 characters/)
  })

  it('refuses a command line over its total limit, however it is made up', async () => {
    const flags = Array.from({ length: 3000 }, () => '--json')
    expectOneLine(
      await cli('segment', image, '--point', '5,5', ...flags),
      /^error: the command line has 3004 arguments and \d+ characters; at most 16384 are accepted$/,
    )
  })

  it('onnxruntime itself survives a long command line once the engine module is loaded', async () => {
    // The cause of the crash: onnxruntime's telemetry runs std::regex over the process command
    // line when the first session is created, recursing per character until the stack
    // overflows (about 29,000 characters with an 8 MB stack). engine.ts sets
    // ORT_DISABLE_TELEMETRY; here nothing else does, and the argument is far over that length.
    const script = join(dir, 'open-engine.mts')
    writeFileSync(
      script,
      `import { Engine } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src-main', 'core', 'segment', 'engine.ts')).href)}\n` +
        `const engine = await Engine.open({ modelDir: ${JSON.stringify(DEMO_MODEL)} })\n` +
        `await engine.close()\nprocess.stdout.write('opened ' + process.argv[2].length + '\\n')\n`,
    )
    const env = { ...process.env }
    delete env.ORT_DISABLE_TELEMETRY
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script, 'a'.repeat(60_000)], {
      cwd: ROOT,
      env,
    })
    expect(stdout).toBe('opened 60000\n')
  })
})

describe('the limits in core', () => {
  it('checkPrompt refuses the same number of points the IPC contract does', () => {
    const points = Array.from({ length: MAX_PROMPT_POINTS }, () => ({ x: 1, y: 1, label: 1 as const }))
    const decode = CONTRACT.segment.decode.input
    expect(decode.safeParse({ imageId: 1, points }).success).toBe(true)
    expect(decode.safeParse({ imageId: 1, points: [...points, points[0]] }).success).toBe(false)
    expect(() => checkPrompt({ points }, 10, 10)).not.toThrow()
    expect(() => checkPrompt({ points: [...points, points[0]] }, 10, 10)).toThrow(
      new UserError('bad-point', `65 points: a prompt takes at most ${MAX_PROMPT_POINTS}`),
    )
  })

  it('a JSON parser giving up on deep nesting (RangeError) becomes one line naming the file', () => {
    // V8's JSON.parse does not recurse today, so the failure is simulated.
    const parse = vi.spyOn(JSON, 'parse').mockImplementationOnce(() => {
      throw new RangeError('Maximum call stack size exceeded')
    })
    try {
      expect(() => parseCocoText('[[[]]]', '/data/deep.json')).toThrow(
        new UserError('coco-json', '/data/deep.json: the JSON is nested too deeply to read'),
      )
    } finally {
      parse.mockRestore()
    }
  })
})

describe('a file where a folder belongs', () => {
  it('--model FILE and export --yolo FILE say it is a file, not that it does not exist', async () => {
    expectOneLine(
      await cli('segment', image, '--point', '1,1', '--model', image),
      new RegExp(`${escape(image)}: is a file, not a model folder`),
    )
    const project = join(dir, 'yolo-project')
    mkdirSync(project)
    writeFileSync(join(project, 'a.png'), readFileSync(image))
    const target = join(dir, 'not-a-folder.txt')
    writeFileSync(target, 'keep me')
    expectOneLine(
      await cli('export', project, '--yolo', target),
      new RegExp(`${escape(target)}: is a file, not a folder`),
    )
    expect(readFileSync(target, 'utf8')).toBe('keep me')
  })
})
