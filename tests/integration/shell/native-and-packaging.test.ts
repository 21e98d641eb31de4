// better-sqlite3 in Electron without touching node_modules, and what packaging will ship.
// The Electron rebuild itself needs electronjs.org, so here: the decision logic (stamps), the
// offline refusal (nothing changed, a clear message), the copy-and-stamp path with
// @electron/rebuild replaced, the dlopen redirect (in a child Node process, with a copy of the
// Node build standing in for the Electron one), electron-builder.yml's native mapping, its fuses
// (flipped by a real electron-builder run into a stand-in Electron executable), and the built
// preload requiring nothing a sandbox lacks.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { electronSqliteBinding, useElectronSqlite } from '../../../src-main/native-sqlite.ts'
import {
  BINARY_NAME,
  buildElectronNative,
  installedVersions,
  NativeBuildError,
  nativeStatus,
  nativeTargetDir,
  STAMP_NAME,
} from '../../../scripts/electron-native.mjs'
import { ROOT } from './fixture.ts'

const run = promisify(execFile)
/** A folder of the asar archive's header (its file table). */
interface AsarDir {
  files?: Record<string, AsarDir>
}
const require = createRequire(import.meta.url)
const NODE_SQLITE = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', BINARY_NAME)
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')

const temps: string[] = []
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sam-shell-native-'))
  temps.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('the Electron build of better-sqlite3', () => {
  const wanted = installedVersions(ROOT)

  it('reads the versions it must match from node_modules', () => {
    expect(wanted.electronVersion).toMatch(/^\d+\.\d+\.\d+/)
    expect(wanted.sqliteVersion).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('decides from the stamp whether a build can be reused', () => {
    const dir = temp()
    expect(nativeStatus(dir, wanted).state).toBe('missing')
    writeFileSync(join(dir, BINARY_NAME), 'binary')
    expect(nativeStatus(dir, wanted)).toMatchObject({ state: 'stale', reason: expect.stringContaining(STAMP_NAME) })
    writeFileSync(join(dir, STAMP_NAME), JSON.stringify({ ...wanted, electronVersion: '44.0.0' }))
    expect(nativeStatus(dir, wanted)).toMatchObject({
      state: 'stale',
      reason: expect.stringContaining('Electron 44.0.0'),
    })
    writeFileSync(join(dir, STAMP_NAME), JSON.stringify({ ...wanted, sqliteVersion: '11.0.0' }))
    expect(nativeStatus(dir, wanted)).toMatchObject({
      state: 'stale',
      reason: expect.stringContaining('better-sqlite3 11.0.0'),
    })
    writeFileSync(join(dir, STAMP_NAME), JSON.stringify(wanted))
    expect(nativeStatus(dir, wanted).state).toBe('ready')
  })

  it('keeps its build under .cache/electron-native/<platform>-<arch>, and main looks there', () => {
    expect(nativeTargetDir('/repo', 'linux', 'x64')).toBe(join('/repo', '.cache', 'electron-native', 'linux-x64'))
    const dev = { packaged: false, resourcesPath: '/x', appRoot: '/repo', platform: 'linux', arch: 'x64' }
    expect(electronSqliteBinding(dev)).toBe(join(nativeTargetDir('/repo', 'linux', 'x64'), BINARY_NAME))
    expect(electronSqliteBinding({ ...dev, override: '/elsewhere/b.node' })).toBe('/elsewhere/b.node')
    // Packaged: resources/native, and the environment is never followed.
    expect(
      electronSqliteBinding({ ...dev, packaged: true, resourcesPath: '/opt/app/resources', override: '/evil.node' }),
    ).toBe(join('/opt/app/resources', 'native', BINARY_NAME))
  })

  it('offline: stops before touching anything and says what to do', async () => {
    const before = sha(NODE_SQLITE)
    const root = temp()
    let rebuilt = false
    const error = await buildElectronNative({
      root: ROOT,
      wanted,
      log: () => {},
      deps: {
        lookup: () =>
          Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND www.electronjs.org'), { code: 'ENOTFOUND' })),
        rebuild: async () => {
          rebuilt = true
        },
      },
    }).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(NativeBuildError)
    expect((error as Error).message).toMatch(/www\.electronjs\.org cannot be reached/)
    expect((error as Error).message).toMatch(/Nothing was changed: node_modules keeps the Node build/)
    expect((error as Error).message).toContain(nativeTargetDir(ROOT))
    expect(rebuilt).toBe(false)
    expect(sha(NODE_SQLITE)).toBe(before)
    expect(existsSync(join(root, '.cache'))).toBe(false)
  })

  it('online: builds a copy of better-sqlite3 apart from node_modules, then stamps the result', async () => {
    const before = sha(NODE_SQLITE)
    // A scratch root with its own node_modules links, so the real .cache stays untouched.
    const root = temp()
    writeFileSync(join(root, 'package.json'), '{}')
    mkdirSync(join(root, 'node_modules'))
    for (const name of ['electron', 'better-sqlite3']) {
      const { symlinkSync } = await import('node:fs')
      symlinkSync(dirname(require.resolve(`${name}/package.json`)), join(root, 'node_modules', name))
    }
    const seen: { buildPath: string; electronVersion: string; copiedBuild: boolean; nodedir: string | undefined }[] = []
    const savedNodedir = process.env.npm_config_nodedir
    process.env.npm_config_nodedir = '/usr'
    const binary = await buildElectronNative({
      root,
      wanted,
      platform: 'linux',
      arch: 'x64',
      log: () => {},
      deps: {
        lookup: async () => ({ address: '127.0.0.1' }),
        // Stands in for @electron/rebuild: writes what node-gyp would.
        rebuild: async ({ buildPath, electronVersion }) => {
          const module = join(buildPath, 'node_modules', 'better-sqlite3')
          seen.push({
            buildPath,
            electronVersion,
            copiedBuild: existsSync(join(module, 'build')),
            nodedir: process.env.npm_config_nodedir,
          })
          mkdirSync(join(module, 'build', 'Release'), { recursive: true })
          writeFileSync(join(module, 'build', 'Release', BINARY_NAME), 'electron-abi-binary')
          writeFileSync(
            join(module, 'build', 'config.gypi'),
            `{ "variables": { "nodedir": "/home/u/.electron-gyp/${electronVersion}" } }`,
          )
        },
      },
    })
    if (savedNodedir === undefined) delete process.env.npm_config_nodedir
    else process.env.npm_config_nodedir = savedNodedir
    expect(seen).toEqual([
      {
        buildPath: join(root, '.cache', 'electron-native', 'work'),
        electronVersion: wanted.electronVersion,
        copiedBuild: false,
        nodedir: undefined,
      },
    ])
    expect(binary).toBe(join(nativeTargetDir(root, 'linux', 'x64'), BINARY_NAME))
    expect(readFileSync(binary, 'utf8')).toBe('electron-abi-binary')
    expect(nativeStatus(nativeTargetDir(root, 'linux', 'x64'), wanted).state).toBe('ready')
    expect(existsSync(join(root, '.cache', 'electron-native', 'work'))).toBe(false)
    expect(sha(NODE_SQLITE)).toBe(before)
  })

  it("refuses a build made against Node's headers (the npm_config_nodedir trap)", async () => {
    const root = temp()
    writeFileSync(join(root, 'package.json'), '{}')
    mkdirSync(join(root, 'node_modules'))
    const { symlinkSync } = await import('node:fs')
    for (const name of ['electron', 'better-sqlite3'])
      symlinkSync(dirname(require.resolve(`${name}/package.json`)), join(root, 'node_modules', name))
    const error = await buildElectronNative({
      root,
      wanted,
      log: () => {},
      deps: {
        lookup: async () => ({}),
        rebuild: async ({ buildPath }) => {
          const module = join(buildPath, 'node_modules', 'better-sqlite3', 'build')
          mkdirSync(join(module, 'Release'), { recursive: true })
          writeFileSync(join(module, 'Release', BINARY_NAME), 'node-abi')
          writeFileSync(join(module, 'config.gypi'), '{ "variables": { "nodedir": "/usr" } }')
        },
      },
    }).catch((err: unknown) => err)
    expect((error as Error).message).toMatch(/headers from \/usr/)
    expect(existsSync(join(nativeTargetDir(root), BINARY_NAME))).toBe(false)
  })

  // /proc/self/maps tells which file was really loaded; Linux only.
  it.skipIf(process.platform !== 'linux')(
    'the store loads the Electron build named by main in place of the Node build (child process)',
    async () => {
      const dir = temp()
      const copy = join(dir, 'electron-build', BINARY_NAME)
      mkdirSync(dirname(copy))
      copyFileSync(NODE_SQLITE, copy)
      const script = join(dir, 'probe.mts')
      writeFileSync(
        script,
        `import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useElectronSqlite } from ${JSON.stringify(join(ROOT, 'src-main', 'native-sqlite.ts'))}
import { Project } from ${JSON.stringify(join(ROOT, 'src-main', 'core', 'project', 'index.ts'))}
useElectronSqlite(${JSON.stringify(copy)})
const project = Project.open(mkdtempSync(join(tmpdir(), 'sqlite-binding-')))
const answer = { x: project.counts().images }
project.close()
const maps = readFileSync('/proc/self/maps', 'utf8')
console.log(JSON.stringify({ answer, copy: maps.includes(${JSON.stringify(copy)}), original: maps.includes(${JSON.stringify(NODE_SQLITE)}) }))
`,
      )
      const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { cwd: ROOT })
      expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
        answer: { x: 0 },
        copy: true,
        original: false,
      })
      expect(() => useElectronSqlite(join(dir, 'missing', BINARY_NAME))).toThrow(/no Electron build at .*npm start/)
    },
    30_000,
  )
})

describe('packaging (electron-builder.yml) and the built preload', () => {
  const yaml = require('js-yaml') as { load(text: string): unknown }
  const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>

  it('ships the Electron build of better-sqlite3 where main looks for it', () => {
    const extra = config['extraResources'] as { from: string; to: string; filter: string[] }[]
    const entry = extra.find((item) => item.filter.includes(BINARY_NAME))
    expect(entry).toBeDefined()
    // electron-builder expands ${platform} to process.platform and ${arch} to the target CPU.
    const from = (entry?.from ?? '').replace('${platform}', process.platform).replace('${arch}', process.arch)
    expect(join(ROOT, from)).toBe(nativeTargetDir(ROOT))
    const packaged = electronSqliteBinding({
      packaged: true,
      resourcesPath: '/R',
      appRoot: '/',
      platform: process.platform,
      arch: process.arch,
    })
    expect(packaged).toBe(join('/R', entry?.to ?? '', BINARY_NAME))
  })

  it('unpacks native code and onnxruntime, includes models/demo, never real weights, never rebuilds itself', () => {
    const files = config['files'] as string[]
    expect(files).toEqual(
      expect.arrayContaining(['out/**', 'package.json', 'models/demo/**', '!models/sam2.1-*{,/**}']),
    )
    expect(config['asarUnpack']).toEqual(
      expect.arrayContaining(['**/*.node', '**/node_modules/onnxruntime-node/bin/**', 'models/demo/**']),
    )
    expect(config['npmRebuild']).toBe(false)
    expect(JSON.stringify(config)).not.toMatch(/\.cache\/electron-native\/work/)
  })

  it('sets the Electron fuses: no Node, NODE_OPTIONS or inspector from outside, file: unprivileged, app only from a checked asar', () => {
    expect(config['electronFuses']).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      grantFileProtocolExtraPrivileges: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
    })
  })

  // electron-builder's own run with a stand-in Electron (`electronDist`: a folder with an
  // "executable" holding nothing but a fuse wire), so it works offline: the fuses it flips are read
  // back from the packaged executable, and the app is checked to sit inside app.asar, which the
  // onlyLoadAppFromAsar fuse makes the only place Electron looks.
  it.skipIf(process.platform !== 'linux')(
    'packaging flips those fuses in the executable and packs the app into app.asar (electron-builder --dir)',
    async () => {
      const work = temp()
      // The marker @electron/fuses looks for; then the wire: format version 1, its length, one byte
      // per fuse ('1' on, '0' off) in Electron's order, as a stock Electron 45 ships them.
      const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'
      const stock = '101100011'
      const dist = join(work, 'electron-dist')
      mkdirSync(dist)
      writeFileSync(
        join(dist, 'electron'),
        Buffer.concat([
          Buffer.from('\x7fELF stand-in\n'),
          Buffer.from(SENTINEL),
          Buffer.from([1, stock.length]),
          Buffer.from(stock),
        ]),
        { mode: 0o755 },
      )
      writeFileSync(join(dist, 'LICENSE'), 'MIT')
      // A private build: build.test.ts may be rewriting out/ in parallel.
      const built = join(work, 'out')
      await run(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build', '--outDir', built], {
        cwd: ROOT,
        maxBuffer: 16 << 20,
      })
      const builderConfig = {
        ...config,
        files: (config['files'] as string[]).map((pattern) =>
          pattern === 'out/**' ? { from: built, to: 'out', filter: ['**/*'] } : pattern,
        ),
        electronDist: dist,
        directories: { ...(config['directories'] as object), output: join(work, 'dist') },
      }
      writeFileSync(join(work, 'builder.json'), JSON.stringify(builderConfig))
      await run(
        join(ROOT, 'node_modules', '.bin', 'electron-builder'),
        ['--dir', '--linux', '--config', join(work, 'builder.json')],
        { cwd: ROOT, maxBuffer: 16 << 20 },
      )
      const unpacked = join(work, 'dist', 'linux-unpacked')
      const executable = readFileSync(join(unpacked, 'sam-annotator'))
      const at = executable.indexOf(SENTINEL) + SENTINEL.length
      const wire = executable.subarray(at + 2, at + 2 + stock.length).toString('latin1')
      // RunAsNode, cookie encryption, NODE_OPTIONS, --inspect, asar integrity, only app.asar,
      // browser V8 snapshot (not ours to set), file: privileges, WASM trap handlers (not ours).
      expect(wire).toBe('010011001')
      const asar = readFileSync(join(unpacked, 'resources', 'app.asar'))
      const header = JSON.parse(asar.subarray(16, 16 + asar.readUInt32LE(12)).toString('utf8')) as AsarDir
      const has = (path: string): boolean =>
        path.split('/').reduce<AsarDir | undefined>((dir, name) => dir?.files?.[name], header) !== undefined
      for (const path of ['package.json', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'])
        expect(has(path), path).toBe(true)
      expect(existsSync(join(unpacked, 'resources', 'app'))).toBe(false)
    },
    240_000,
  )

  it('bundles the preload so a sandbox can load it: it requires electron and nothing else', async () => {
    const out = temp()
    await run(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build', '--outDir', out], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    })
    const preload = readFileSync(join(out, 'preload', 'index.cjs'), 'utf8')
    const required = [...preload.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1])
    expect([...new Set(required)]).toEqual(['electron'])
    expect(preload).toContain('exposeInMainWorld')
    expect(preload).toMatch(/annot:\$\{domain\}\.\$\{name\}|annot:/)
    // The renderer gets no schema library: it imports the contract's types and client only.
    const { readdirSync } = await import('node:fs')
    const assets = readdirSync(join(out, 'renderer', 'assets')).filter((name) => name.endsWith('.js'))
    for (const asset of assets)
      expect(readFileSync(join(out, 'renderer', 'assets', asset), 'utf8')).not.toMatch(/ZodError/)
  }, 120_000)
})
