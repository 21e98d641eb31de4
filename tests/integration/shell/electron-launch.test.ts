// Launches the real app in Electron with Playwright, opens a fixture project from the command
// line and decodes one click through window.api. Needs the Electron binary (downloaded from
// GitHub on first launch) and better-sqlite3 built for Electron (npm start makes it); where
// either is missing, as on the offline build machines, it reports itself skipped and why.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { _electron as electron } from 'playwright-core'
import { BINARY_NAME, nativeTargetDir } from '../../../scripts/electron-native.mjs'
import type { BridgeApi, DecodeResult, ProjectSummary } from '../../../src-preload/contract/index.ts'
import { makeProjectFolder, ROOT } from './fixture.ts'

const require = createRequire(import.meta.url)

/** The Electron executable, looked up without require('electron') (which would start a download). */
function electronBinary(): string | null {
  const fromEnv = process.env['ELECTRON_EXEC_PATH']
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null
  const dir = dirname(require.resolve('electron/package.json'))
  const pathFile = join(dir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(binary) ? binary : null
}

/** The page's global object as the test sees it (the Node tsconfig has no DOM types). */
declare const globalThis: { api: BridgeApi; require?: unknown; ipcRenderer?: unknown }

const binary = electronBinary()
const sqlite = process.env['SAM_ANNOTATOR_SQLITE_BINDING'] ?? join(nativeTargetDir(ROOT), BINARY_NAME)
const skipReason =
  binary === null
    ? 'the Electron binary is not installed (node_modules/electron/path.txt missing; Electron downloads it from GitHub, unreachable here)'
    : !existsSync(sqlite)
      ? `better-sqlite3 has no Electron build at ${sqlite} (npm start makes it with network access)`
      : null

describe('Electron launch smoke test', () => {
  const cleanup: (() => void)[] = []
  afterAll(() => {
    for (const fn of cleanup) fn()
  })

  it.skipIf(skipReason !== null)(
    `opens a fixture project and decodes one click${skipReason ? ` — skipped: ${skipReason}` : ''}`,
    async () => {
      await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build'], {
        cwd: ROOT,
        maxBuffer: 16 << 20,
      })
      const { dir } = await makeProjectFolder('sam-shell-e2e-')
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
      const app = await electron.launch({
        executablePath: binary as string,
        args: [join(ROOT, 'out', 'main', 'index.js'), dir],
        cwd: ROOT,
        env: { ...process.env, SAM_ANNOTATOR_SQLITE_BINDING: sqlite },
      })
      try {
        const page = await app.firstWindow()
        const result = await page.evaluate(async () => {
          const api = globalThis.api
          let project: { ok: boolean; value?: unknown } = { ok: false }
          for (let i = 0; i < 100; i++) {
            project = await api.project.current()
            if (project.ok && project.value !== null) break
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
          const images = await api.images.list({ limit: 10 })
          if (!images.ok) return { project, images }
          const square = images.value.images.find((image) => image.path === 'a-square.png')
          const decode = await api.segment.decode({ imageId: square?.id ?? 0, points: [{ x: 45, y: 30, label: 1 }] })
          const hasIpcRenderer = globalThis.ipcRenderer !== undefined || globalThis.require !== undefined
          return { project, decode, hasIpcRenderer }
        })
        expect((result.project as { value: ProjectSummary }).value.folder).toBeTruthy()
        expect(result.decode?.ok).toBe(true)
        const decoded = (result.decode as { value: DecodeResult }).value
        expect(decoded.bbox[2]).toBeGreaterThan(20)
        expect(result.hasIpcRenderer).toBe(false)
      } finally {
        await app.close()
      }
    },
    120_000,
  )

  it('says why it was skipped, or that it ran', () => {
    // Visible in the report: the reason is part of the skipped test's name above, and here.
    if (skipReason !== null) console.log(`Electron launch smoke test skipped: ${skipReason}`)
    expect(skipReason === null || skipReason.length > 20).toBe(true)
  })
})
