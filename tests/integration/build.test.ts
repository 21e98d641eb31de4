// The app builds and type-checks: `npm run build` (electron-vite: main, preload, renderer) and
// `npm run typecheck` (tsc for Node code, svelte-check for the renderer) run inside the suite,
// so CI catches a broken build even though Electron itself cannot launch on our machines.

import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '..', '..')
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name)

describe('build and type-check', () => {
  it('electron-vite builds main, preload and renderer', async () => {
    await run(bin('electron-vite'), ['build'], { cwd: ROOT, maxBuffer: 16 << 20 })
    for (const file of ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
      expect(existsSync(join(ROOT, file)), file).toBe(true)
    }
    // Native packages stay external to the main bundle: bundled, they break at run time with
    // no warning at build time (toolchain pitfall P12).
    const main = readFileSync(join(ROOT, 'out/main/index.js'), 'utf8')
    for (const pkg of ['better-sqlite3', 'onnxruntime-node', 'sharp']) expect(main).toMatch(new RegExp(`from "${pkg}"`))
    expect(main).not.toMatch(/bindings\(/)

    // The geometry worker is built beside index.js, where main starts it, and runs a task.
    const worker = new Worker(join(ROOT, 'out/main/geometry-worker.js'))
    try {
      const replies: unknown[] = []
      await new Promise<void>((done, fail) => {
        worker.on('error', fail)
        worker.on('message', (reply: unknown) => {
          replies.push(reply)
          if (reply === 'ready')
            worker.postMessage({ id: 1, task: 'polygonGeometry', args: [[[0, 0, 10, 0, 10, 10, 0, 10]], 64, 48] })
          else done()
        })
      })
      expect(replies[1]).toMatchObject({ id: 1, ok: true, result: { area: 100, bbox: [0, 0, 10, 10] } })
    } finally {
      await worker.terminate()
    }
    // Main names the workers it starts from beside itself.
    expect(main).toContain('"geometry-worker"')
    expect(main).toContain('"inference-worker"')

    // So is the inference worker: it opens the demo decoder and describes it.
    const inference = new Worker(join(ROOT, 'out/main/inference-worker.js'))
    try {
      const reply = await new Promise<unknown>((done, fail) => {
        inference.on('error', fail)
        inference.on('message', done)
        inference.postMessage({
          id: 1,
          op: 'create',
          file: join(ROOT, 'models/demo/decoder.onnx'),
          options: { executionProviders: ['cpu'] },
        })
      })
      expect(reply).toMatchObject({ id: 1, ok: true, result: { inputNames: expect.arrayContaining(['image_embed']) } })
    } finally {
      await inference.terminate()
    }
  }, 120_000)

  it('tsc and svelte-check report no errors', async () => {
    await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.node.json'], { cwd: ROOT, maxBuffer: 16 << 20 })
    await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.e2e.json'], { cwd: ROOT, maxBuffer: 16 << 20 })
    const { stdout } = await run(bin('svelte-check'), ['--tsconfig', './tsconfig.web.json', '--fail-on-warnings'], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    })
    expect(stdout).toMatch(/0 errors and 0 warnings/)
  }, 180_000)
})
