// The app's click loop with a real-size model, through the app's own services (worker-thread
// sessions, the geometry pool, the embedding scheduler with prefetch), as the Electron main
// process runs it: `benchAppSwitch(modelDir)` opens a folder of 4000x3000 photos, makes the
// first current, lets prefetch encode its neighbour, then switches to that neighbour and clicks.
// Figures: the wait for the embedding after the switch (what prefetch exists to remove), the
// click's decode and postprocess, and the longest stall of main's event loop over the whole
// run (encodes and decodes run in worker threads, mask geometry in the geometry pool).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import sharp from 'sharp'
import { Engine } from '../src-main/core/segment/engine.ts'
import { AppServices } from '../src-main/services/app-services.ts'
import { workerRunners } from '../src-main/services/inference/inference-client.ts'
import type { EmbeddingState } from '../src-preload/contract/segment.ts'

export interface AppSwitchBench {
  /** Milliseconds from opening the project until the first image and its neighbour are encoded. */
  prefetchMs: number
  /** The click after switching to the prefetched neighbour: its wait for the embedding. */
  switchWaitMs: number
  decodeMs: number
  postprocessMs: number
  /** Longest event-loop stall of main over the run (milliseconds). */
  longestStallMs: number
  /** 99th percentile of main's event-loop delay over the run (milliseconds). */
  p99StallMs: number
}

async function photo(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90 + seed * 40, g: 120, b: 140 } } })
    .composite([
      {
        input: Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><ellipse cx="${width * 0.45}" cy="${height * 0.55}" rx="${width * 0.28}" ry="${height * 0.24}" fill="#c83c32"/></svg>`,
        ),
      },
    ])
    .jpeg({ quality: 90 })
    .toBuffer()
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const start = performance.now()
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function benchAppSwitch(modelDir: string): Promise<AppSwitchBench> {
  const work = mkdtempSync(join(tmpdir(), 'sam-bench-switch-'))
  const folder = join(work, 'photos')
  mkdirSync(folder)
  for (let i = 0; i < 3; i++) writeFileSync(join(folder, `photo-${i}.jpg`), await photo(4000, 3000, i))
  const delay = monitorEventLoopDelay({ resolution: 1 })
  const app = new AppServices({
    engine: Engine.open({ modelDir, runners: workerRunners }),
    userDataDir: join(work, 'user-data'),
    projectUserDataDir: join(work, 'user-data', 'projects'),
    dialogs: { chooseFolder: async () => folder, chooseSaveFile: async () => null, chooseOpenFile: async () => null },
    emit: () => {},
    prefetch: 1,
  })
  try {
    await app.model.info()
    await app.projects.openWithDialog()
    const page = await app.images.list({ limit: 10 })
    const [first, second] = page.images
    delay.enable()
    const t0 = performance.now()
    await app.segment.setCurrent(first.id)
    const ready = async (imageId: number): Promise<boolean> => {
      const state: EmbeddingState = (await app.segment.embeddingStatus(imageId)).state
      return state === 'ready'
    }
    await until(async () => (await ready(first.id)) && (await ready(second.id)), 'the prefetch')
    const prefetchMs = performance.now() - t0
    await app.segment.setCurrent(second.id)
    const click = await app.segment.decode({ imageId: second.id, points: [{ x: 1800, y: 1650, label: 1 }] })
    delay.disable()
    return {
      prefetchMs,
      switchWaitMs: click.timings.embedding,
      decodeMs: click.timings.decode,
      postprocessMs: click.timings.postprocess,
      longestStallMs: delay.max / 1e6,
      p99StallMs: delay.percentile(99) / 1e6,
    }
  } finally {
    await app.dispose()
    rmSync(work, { recursive: true, force: true })
  }
}
