// Guards the app skeleton's boundaries and packaging config, which no type-checker sees:
// which root may import what (house-style.md "Boundaries"), the window's hardening, the
// renderer's CSP, and electron-builder.yml's required settings (packaging cannot run here).
import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { INVOKE_CHANNELS } from '../../src-preload/contract/index.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.svelte']

/** Every module specifier a source file names: static, type-only, dynamic and require(). */
function importsOf(source: string, fileName: string): string[] {
  const scripts = fileName.endsWith('.svelte')
    ? [...source.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1] ?? '')
    : [source]
  return scripts.flatMap((script) => ts.preProcessFile(script, true, true).importedFiles.map((ref) => ref.fileName))
}

interface SourceImport {
  file: string
  specifier: string
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((path) => SOURCE_EXTENSIONS.some((ext) => path.endsWith(ext)))
    .map((path) => join(ROOT, dir, path))
}

function importsUnder(dir: string): SourceImport[] {
  return sourceFiles(dir).flatMap((file) =>
    importsOf(readFileSync(file, 'utf8'), file).map((specifier) => ({ file: relative(ROOT, file), specifier })),
  )
}

const NODE_BUILTINS = new Set(builtinModules)
const isNodeBuiltin = (specifier: string): boolean =>
  specifier.startsWith('node:') || NODE_BUILTINS.has(specifier.split('/')[0] ?? '')
const isPackage = (specifier: string, name: string): boolean => specifier === name || specifier.startsWith(`${name}/`)

describe('import scanner', () => {
  // The boundary checks below are only as good as this scanner, so prove it sees each form.
  it('finds static, type-only, dynamic, side-effect and require imports, and Svelte scripts', () => {
    const source = [
      "import { app } from 'electron'",
      "import type { Stage } from 'konva'",
      "export * from './contract/model.ts'",
      "const db = await import('better-sqlite3')",
      "const fs = require('node:fs')",
      "import 'svelte/internal'",
    ].join('\n')
    expect(importsOf(source, 'x.ts')).toEqual([
      'electron',
      'konva',
      './contract/model.ts',
      'better-sqlite3',
      'node:fs',
      'svelte/internal',
    ])
    const component =
      '<script lang="ts">\n  import { ipcRenderer } from "electron"\n</script>\n<p>{"import x from \'y\'"}</p>'
    expect(importsOf(component, 'App.svelte')).toEqual(['electron'])
  })
})

describe('process boundaries', () => {
  it('src-main/core never imports electron (it must run under plain Node)', () => {
    const imports = importsUnder('src-main/core')
    expect(imports.length).toBeGreaterThan(0)
    expect(imports.filter(({ specifier }) => isPackage(specifier, 'electron'))).toEqual([])
  })

  it('src-main never imports Svelte, Konva or .svelte files', () => {
    const bad = importsUnder('src-main').filter(
      ({ specifier }) =>
        ['svelte', 'konva', 'svelte-konva'].some((name) => isPackage(specifier, name)) || specifier.endsWith('.svelte'),
    )
    expect(bad).toEqual([])
  })

  it('src-main/core reaches outside its root only for the IPC contract (the one vocabulary of types)', () => {
    const crossing = importsUnder('src-main/core').filter(({ file, specifier }) => {
      if (!specifier.startsWith('.')) return false
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier))
      return !target.startsWith('src-main/core/') && !target.startsWith('src-preload/contract/')
    })
    expect(crossing).toEqual([])
  })

  it('the IPC handler table only calls services: it imports neither core nor the project store', () => {
    const imports = importsOf(readFileSync(join(ROOT, 'src-main/handlers.ts'), 'utf8'), 'handlers.ts')
    expect(imports.filter((specifier) => !specifier.startsWith('./services/') && specifier !== './ipc.ts')).toEqual([])
  })

  it("no class or module of main's is named a session (the word is the renderer's and onnxruntime's)", () => {
    const named = sourceFiles('src-main').filter((file) => {
      const source = readFileSync(file, 'utf8')
      return /session/i.test(relative(ROOT, file)) || /\b(class|interface|type)\s+\w*Session\b/.test(source)
    })
    expect(named.map((file) => relative(ROOT, file))).toEqual([])
  })

  it('src-renderer imports no electron, Node builtins or native packages', () => {
    const imports = importsUnder('src-renderer')
    expect(imports.length).toBeGreaterThan(0)
    const bad = imports.filter(
      ({ specifier }) =>
        isNodeBuiltin(specifier) ||
        ['electron', 'better-sqlite3', 'onnxruntime-node', 'sharp'].some((name) => isPackage(specifier, name)),
    )
    expect(bad).toEqual([])
  })

  it('src-renderer reaches outside its root only for the preload contract', () => {
    const crossing = importsUnder('src-renderer').filter(({ file, specifier }) => {
      if (!specifier.startsWith('.')) return false
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier))
      return !target.startsWith('src-renderer/') && !target.startsWith('src-preload/contract/')
    })
    expect(crossing).toEqual([])
  })

  it('src-preload/contract stays runtime-neutral (no electron, Node, DOM; no package but zod)', () => {
    const imports = importsUnder('src-preload/contract')
    const bad = imports.filter(({ file, specifier }) => {
      // zod is plain ECMAScript; the preload bundles it (externalizeDeps: false) for the sandbox.
      if (specifier === 'zod') return false
      if (!specifier.startsWith('.')) return true
      return !relative(ROOT, resolve(ROOT, dirname(file), specifier)).startsWith('src-preload/contract/')
    })
    expect(bad).toEqual([])
    for (const file of sourceFiles('src-preload/contract')) {
      // DOM or Node globals would tie the contract to one runtime just as an import would.
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
      expect(code, file).not.toMatch(/\b(window|document|process|Buffer|require)\s*[.(]/)
    }
  })

  it('channel names follow annot:<domain>.<method>', () => {
    expect(INVOKE_CHANNELS.length).toBeGreaterThan(20)
    for (const { domain, method, channel } of INVOKE_CHANNELS) {
      expect(channel).toBe(`annot:${domain}.${method}`)
      expect(channel).toMatch(/^annot:[a-z]+\.[a-z][A-Za-z]*$/)
    }
  })
})

describe('window hardening', () => {
  const main = readFileSync(join(ROOT, 'src-main/index.ts'), 'utf8')

  it('creates the window sandboxed, isolated, without Node, with the CJS preload', () => {
    expect(main).toMatch(/contextIsolation:\s*true/)
    expect(main).toMatch(/sandbox:\s*true/)
    expect(main).toMatch(/nodeIntegration:\s*false/)
    expect(main).toContain("'../preload/index.cjs'")
    expect(main).not.toMatch(/webSecurity:\s*false|allowRunningInsecureContent:\s*true/)
  })

  it('keeps navigation on the app origin and denies window.open (policy: src-main/navigation.ts)', () => {
    for (const event of ['will-navigate', 'will-frame-navigate'])
      expect(main, event).toMatch(
        new RegExp(
          `'${event}',\\s*\\((\\w+)\\)\\s*=>\\s*\\{\\s*if \\(!mayNavigate\\([^)]*\\)\\)\\s*\\1\\.preventDefault\\(\\)`,
        ),
      )
    expect(main).toMatch(/'will-redirect',\s*\(\w+\)\s*=>\s*\w+\.preventDefault\(\)/)
    expect(main).toMatch(/setWindowOpenHandler\(\(\)\s*=>\s*\(\{\s*action:\s*'deny'\s*\}\)\)/)
  })

  it('serves the page from app: and refuses file: (handlers: src-main/app-protocol.ts)', () => {
    expect(main).toMatch(/loadURL\(APP_INDEX_URL\)/)
    expect(main).not.toMatch(/loadFile\(|renderer\/index\.html', import\.meta\.url/)
    expect(main).toMatch(/protocol\.handle\(APP_SCHEME,[^)]*\)\s*=>\s*handleAppRequest\(/)
    expect(main).toMatch(/protocol\.handle\('file', refuseFileRequest\)/)
    expect(main).toMatch(
      /onBeforeRequest\(\(details, callback\)\s*=>\s*\{\s*callback\(\{ cancel: !mayRequest\(details\.url, PAGES\) \}\)/,
    )
    expect(main).toMatch(/scheme:\s*APP_SCHEME,\s*privileges:\s*\{\s*standard:\s*true,\s*secure:\s*true/)
  })

  it('the renderer page sets a CSP that allows only our own scripts', () => {
    const html = readFileSync(join(ROOT, 'src-renderer/index.html'), 'utf8')
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1]
    expect(csp).toBeDefined()
    const directives = new Map(
      (csp ?? '').split(';').map((part) => {
        const [name = '', ...values] = part.trim().split(/\s+/)
        return [name, values] as const
      }),
    )
    expect(directives.get('default-src')).toEqual(["'none'"])
    expect(directives.get('script-src')).toEqual(["'self'"])
    expect(directives.get('object-src')).toEqual(["'none'"])
    expect(csp).not.toContain('unsafe-eval')
  })
})

describe('electron-builder.yml', () => {
  // js-yaml comes with electron-builder and has no bundled types; read it as an untyped parser.
  const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown }
  const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [])
  const section = (name: string): Record<string, unknown> => (config[name] ?? {}) as Record<string, unknown>

  it('names the app', () => {
    expect(config['appId']).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/)
    expect(config['productName']).toBe('SAM Annotator')
  })

  it('packs the build, package.json and the demo model, never the SAM 2.1 weights', () => {
    const files = list(config['files'])
    expect(files).toEqual(expect.arrayContaining(['out/**', 'package.json', 'models/demo/**']))
    expect(files.some((pattern) => pattern.startsWith('!models/sam2.1-'))).toBe(true)
  })

  it('unpacks native code and the demo model from the asar', () => {
    expect(list(config['asarUnpack'])).toEqual(
      expect.arrayContaining([
        '**/*.node',
        '**/node_modules/onnxruntime-node/bin/**',
        '**/node_modules/@img/**',
        'models/demo/**',
      ]),
    )
  })

  it('leaves the native rebuild to scripts/electron-rebuild.mjs', () => {
    expect(config['npmRebuild']).toBe(false)
  })

  it.each([
    ['linux', ['AppImage', 'deb'], 'linux'],
    ['win', ['nsis'], 'win32'],
    ['mac', ['dmg'], 'darwin'],
  ] as const)("%s: targets %j and drops the other OSes' onnxruntime binaries", (name, targets, ortOs) => {
    const platform = section(name)
    expect(list(platform['target'])).toEqual([...targets])
    const files = list(platform['files'])
    // An exclusions-only platform list makes electron-builder add "**/*" and pack the whole
    // project folder, so each one must keep a positive pattern.
    expect(files.some((pattern) => !pattern.startsWith('!'))).toBe(true)
    const exclusion = files.find((pattern) => pattern.startsWith('!**/node_modules/onnxruntime-node/bin/napi-v6/{'))
    const excludedOses = /\{([^}]+)\}/.exec(exclusion ?? '')?.[1]?.split(',') ?? []
    expect(excludedOses.sort()).toEqual(['darwin', 'linux', 'win32'].filter((os) => os !== ortOs))
  })

  it("ships only the target CPU's onnxruntime binaries", () => {
    expect(list(config['files'])).toContain('!**/node_modules/onnxruntime-node/bin/napi-v6/*/!(${arch})/**')
  })
})
