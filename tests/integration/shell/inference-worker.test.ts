// The app's model sessions run in worker threads (services/inference): the same results as
// sessions in this thread, click after click (the embedding crosses in shared memory and the
// worker keeps its plain copy), and main's event loop keeps turning while the encoder works. In
// this thread, onnxruntime-node runs a model synchronously: no timer fires until it is done.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../../src-main/core/segment/engine.ts'
import type { PromptRecord } from '../../../src-preload/contract/schemas.ts'
import { workerRunners } from '../../../src-main/services/inference/inference-client.ts'
import { DEMO_MODEL, squareImage } from './fixture.ts'
import { watchEventLoop } from '../../helpers/event-loop.ts'

describe('model sessions in worker threads', () => {
  let local: Engine
  let remote: Engine
  let image: Buffer

  beforeAll(async () => {
    ;[local, remote] = await Promise.all([
      Engine.open({ modelDir: DEMO_MODEL }),
      Engine.open({ modelDir: DEMO_MODEL, runners: workerRunners }),
    ])
    image = await squareImage(96, 64, { x: 20, y: 10, size: 30 })
  })
  afterAll(async () => {
    await Promise.all([local?.close(), remote?.close()])
  })

  it('encode and every click of a prompt history give what sessions in this thread give', async () => {
    const [a, b] = await Promise.all([local.encode(image), remote.encode(image)])
    expect(b.embedding.imageEmbed).toEqual(a.embedding.imageEmbed)
    const historyA = local.prompt(a.embedding)
    const historyB = remote.prompt(b.embedding)
    const clicks: PromptRecord[] = [
      { points: [{ x: 30, y: 30, label: 1 }], box: null },
      {
        points: [
          { x: 30, y: 30, label: 1 },
          { x: 5, y: 5, label: 0 },
        ],
        box: null,
      },
      {
        points: [
          { x: 30, y: 30, label: 1 },
          { x: 5, y: 5, label: 0 },
          { x: 40, y: 20, label: 1 },
        ],
        box: null,
      },
      {
        points: [
          { x: 30, y: 30, label: 1 },
          { x: 40, y: 20, label: 1 },
        ],
        box: null,
      },
    ]
    for (const click of clicks) {
      const [sa, sb] = await Promise.all([historyA.decode(click), historyB.decode(click)])
      expect(sb.scores).toEqual(sa.scores)
      expect(sb.logits[sb.chosen]).toEqual(sa.logits[sa.chosen])
    }
  })

  it("keeps main's event loop turning while the encoder runs", async () => {
    const tensor = new Float32Array(3 * 1024 * 1024).fill(0.3)
    const measure = async (engine: Engine) => {
      const { ticks, maxGapMs, tookMs } = await watchEventLoop(async () => {
        for (let i = 0; i < 3; i++) await engine.encodeTensor(tensor, 640, 480)
      }, 1)
      return { took: tookMs, ticks, maxGap: maxGapMs }
    }
    const inThread = await measure(local)
    const inWorker = await measure(remote)
    // In this thread the runs are gaps as long as themselves; in a worker, timers keep firing.
    expect(inThread.maxGap).toBeGreaterThan(inThread.took / 6)
    expect(inWorker.maxGap).toBeLessThan(inWorker.took / 3)
    expect(inWorker.ticks).toBeGreaterThan(5 * Math.max(2, inThread.ticks))
  })
})
