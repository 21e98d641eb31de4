// The import boundaries in eslint.config.js, linted through the real project config: each refusal
// must come from the boundary rule as an error, so removing or loosening a rule fails here.
// That the tree itself lints clean is checked by `npm run lint`, which `npm test` runs first.
import { join, resolve } from 'node:path'
import { ESLint, type Linter } from 'eslint'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..', '..')
const RULE = '@typescript-eslint/no-restricted-imports'
const eslint = new ESLint({ cwd: ROOT })

async function lint(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) })
  return result?.messages ?? []
}

/** Lints `code` as `file` and expects the boundary rule to refuse it with `message`. */
async function expectRefused(file: string, code: string, message: string): Promise<void> {
  const boundary = (await lint(file, code)).filter((m) => m.ruleId === RULE)
  expect(boundary, `${file}: ${code}`).toHaveLength(1)
  expect(boundary[0]?.severity).toBe(2)
  expect(boundary[0]?.message).toContain(message)
}

describe('src-main/core is plain Node', () => {
  const file = 'src-main/core/segment/new-module.ts'

  it('refuses electron', async () => {
    await expectRefused(file, "import 'electron'", 'src-main/core is plain Node: no electron import')
    await expectRefused(file, "import 'electron/main'", 'no electron import')
  })

  it('refuses svelte and konva', async () => {
    await expectRefused(file, "import 'svelte'", 'src-main/core is plain Node: no svelte, konva')
    await expectRefused(file, "import 'svelte/store'", 'no svelte, konva')
    await expectRefused(file, "import 'konva'", 'no svelte, konva')
    await expectRefused(file, "import 'svelte-konva'", 'no svelte, konva')
  })

  it('refuses the renderer and the preload outside its contract', async () => {
    await expectRefused(file, "import '../../../src-renderer/src/api.ts'", 'no import from src-renderer')
    await expectRefused(file, "import '../../../src-preload/bridge.ts'", 'only src-preload/contract')
  })

  it('refuses benchmarks, test helpers and dev scripts (product code only)', async () => {
    await expectRefused(file, "import '../../../bench/coco.ts'", 'no import from bench')
    await expectRefused(file, "import '../../../tests/helpers/synthetic.ts'", 'no import from tests')
    await expectRefused(file, "import '../../../scripts/models-fetch/fetch.ts'", 'no import from scripts')
    await expectRefused('src-renderer/src/api.ts', "import '../../tests/helpers/cli.ts'", 'no import from tests')
  })

  it('allows Node builtins and the contract', async () => {
    const code = [
      "import { readFileSync } from 'node:fs'",
      "import type { Api } from '../../../src-preload/contract/index.ts'",
      'export const read = readFileSync',
      'export type CoreApi = Api',
    ].join('\n')
    expect(await lint(file, code)).toEqual([])
  })
})

describe('src-main outside core', () => {
  const file = 'src-main/services/new-service.ts'

  it('allows electron and the contract', async () => {
    const code = [
      "import { app } from 'electron'",
      "import { IMAGE_SCHEME } from '../../src-preload/contract/images.ts'",
      'export const scheme = [app.name, IMAGE_SCHEME]',
    ].join('\n')
    expect(await lint(file, code)).toEqual([])
  })

  it('refuses the preload outside its contract, the renderer, svelte and konva', async () => {
    await expectRefused(
      file,
      "import '../../src-preload/index.ts'",
      'src-main is the Node main process: only src-preload/contract',
    )
    await expectRefused(file, "import '../../src-renderer/src/keymap.ts'", 'no import from src-renderer')
    await expectRefused(file, "import 'konva'", 'no svelte, konva')
  })
})

describe('src-renderer is DOM-only', () => {
  const file = 'src-renderer/src/state/new-state.ts'

  it('refuses Node builtins, with or without node:', async () => {
    await expectRefused(
      file,
      "import { readFileSync } from 'node:fs'\nreadFileSync('x')",
      'src-renderer is DOM-only: no Node builtin',
    )
    await expectRefused(file, "import 'fs'", 'no Node builtin')
    await expectRefused(file, "import 'fs/promises'", 'no Node builtin')
    await expectRefused(file, "import 'child_process'", 'no Node builtin')
  })

  it('refuses electron and the native packages', async () => {
    await expectRefused(file, "import 'electron'", 'src-renderer is DOM-only: no electron import')
    await expectRefused(file, "import 'better-sqlite3'", 'no native Node package')
    await expectRefused(file, "import 'onnxruntime-node'", 'no native Node package')
    await expectRefused(file, "import 'sharp'", 'no native Node package')
  })

  it('refuses src-main and the preload outside its contract, type imports too', async () => {
    await expectRefused(
      file,
      "import type { UserError } from '../../../src-main/core/errors.ts'",
      'no import from src-main',
    )
    await expectRefused(file, "import '../../../src-preload/index.ts'", 'only src-preload/contract')
  })

  it('refuses them in a Svelte component too', async () => {
    const component = "<script lang=\"ts\">\n  import { readFileSync } from 'node:fs'\n  readFileSync('x')\n</script>\n"
    await expectRefused('src-renderer/src/components/New.svelte', component, 'no Node builtin')
  })

  it('allows the contract (a type import) and konva', async () => {
    const code = [
      "import Konva from 'konva'",
      "import type { Api } from '../../../src-preload/contract/index.ts'",
      'export const make = (api: Api) => [api, new Konva.Layer()]',
    ].join('\n')
    expect(await lint(file, code)).toEqual([])
  })
})

describe('src-preload/contract is runtime-neutral', () => {
  const file = 'src-preload/contract/new-channel.ts'

  it('refuses electron, Node, DOM libraries and the other roots', async () => {
    await expectRefused(file, "import 'electron'", 'src-preload/contract is runtime-neutral: no electron import')
    await expectRefused(file, "import 'node:path'", 'no Node builtin')
    await expectRefused(file, "import 'path'", 'no Node builtin')
    await expectRefused(file, "import 'svelte'", 'no svelte, konva')
    await expectRefused(file, "import '../bridge.ts'", 'no import from outside it')
    await expectRefused(file, "import './sub/../../../src-renderer/src/api.ts'", 'no import from src-renderer')
  })

  it('allows zod and its own files', async () => {
    const code = [
      "import { z } from 'zod'",
      "import { KEYMAP } from './keymap.ts'",
      'export const schema = z.object({ size: z.number() })',
      'export const keymap = KEYMAP',
    ].join('\n')
    expect(await lint(file, code)).toEqual([])
  })
})
