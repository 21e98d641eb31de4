// The geometry pool runs mask geometry on worker threads for the app: its results and errors
// are those of the same functions run in line, main's event loop keeps turning while a worker
// traces a fragmented mask of a large image, urgent tasks pass background ones, and a stuck or
// dead worker costs its task, not the pool.
import { afterEach, describe, expect, it } from 'vitest'
import { UserError } from '../../../src-main/core/errors.ts'
import { LOW_RES_SIZE } from '../../../src-main/core/segment/model-interface.ts'
import { logitsToShape } from '../../../src-main/core/segment/mask-geometry.ts'
import { rleEncode, rleToString } from '../../../src-main/core/segment/rle.ts'
import { toCocoSegmentation } from '../../../src-main/core/segment/segmentation.ts'
import { GeometryPool } from '../../../src-main/services/geometry/geometry-pool.ts'
import { watchEventLoop } from '../../helpers/event-loop.ts'

const pools: GeometryPool[] = []
function pool(options?: ConstructorParameters<typeof GeometryPool>[0]): GeometryPool {
  const made = new GeometryPool(options)
  pools.push(made)
  return made
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()))
})

/** Noise-like logits, as SAM's random-weight export gives: thousands of parts and holes at full size. */
function fragmentedLogits(seed: number): Float32Array {
  let state = seed >>> 0
  const logits = new Float32Array(LOW_RES_SIZE * LOW_RES_SIZE)
  for (let i = 0; i < logits.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    logits[i] = (state / 2 ** 32) * 2 - 1
  }
  return logits
}

describe('geometry pool', () => {
  it('returns what the functions return in line, and rebuilds their errors with class and code', async () => {
    const geometry = pool()
    const logits = fragmentedLogits(7)
    const inline = logitsToShape(logits, LOW_RES_SIZE, LOW_RES_SIZE, 640, 480, {})
    const viaWorker = await geometry.run('shapeOf', [logits.slice(), LOW_RES_SIZE, LOW_RES_SIZE, 640, 480, {}])
    expect(viaWorker.shape).toEqual(inline)
    expect(viaWorker.segmentation).toEqual(toCocoSegmentation(inline, 640, 480).segmentation)

    const refused = await geometry.run('polygonGeometry', [[[0, 0, 10, 0]], 64, 48]).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(UserError)
    expect((refused as UserError).code).toBe('annotation-rings')
    expect((refused as UserError).message).toMatch(/ring 0 has 4 numbers/)
  })

  it('traces many outlines in one task; an invalid mask gets its problem, its neighbours their outlines', async () => {
    const geometry = pool()
    const mask = new Uint8Array(96 * 64)
    for (let y = 10; y < 30; y++) for (let x = 20; x < 50; x++) mask[y * 96 + x] = 1
    const good = rleToString(rleEncode(mask, 96, 64))
    const [outline, invalid] = await geometry.run('outlines', [[good, { size: [64, 96], counts: '9' }]])
    expect(Array.isArray(outline) && outline.length).toBe(1)
    expect(invalid).toEqual({ invalid: expect.stringMatching(/RLE counts cover/) })
  })

  it("keeps main's event loop turning while a worker traces a fragmented 4000x3000 mask", async () => {
    const geometry = pool()
    const {
      value: result,
      ticks,
      maxGapMs: maxGap,
      tookMs: took,
    } = await watchEventLoop(() =>
      geometry.run('shapeOf', [fragmentedLogits(1), LOW_RES_SIZE, LOW_RES_SIZE, 4000, 3000, {}]),
    )
    expect(result.shape.parts.length).toBeGreaterThan(100)
    // Run on main, the task would be one gap as long as itself, with no tick in it.
    expect(took).toBeGreaterThan(100)
    expect(ticks).toBeGreaterThan(10)
    expect(maxGap).toBeLessThan(took / 2)
  })

  it('runs urgent tasks before queued background ones', async () => {
    const geometry = pool({ size: 1 })
    const order: string[] = []
    const square = [[0, 0, 10, 0, 10, 10, 0, 10]]
    await geometry.run('polygonGeometry', [square, 64, 48])
    const jobs = [
      geometry.run('polygonGeometry', [square, 64, 48], { background: true }).then(() => order.push('b1')),
      geometry.run('polygonGeometry', [square, 64, 48], { background: true }).then(() => order.push('b2')),
      geometry.run('polygonGeometry', [square, 64, 48], { background: true }).then(() => order.push('b3')),
      geometry.run('polygonGeometry', [square, 64, 48]).then(() => order.push('urgent')),
    ]
    await Promise.all(jobs)
    // b1 was dispatched at once to the idle worker; the urgent task passes b2 and b3.
    expect(order).toEqual(['b1', 'urgent', 'b2', 'b3'])
  })

  it('fails a task that overruns, replaces its worker, and runs the next task', async () => {
    const geometry = pool({ size: 1, taskTimeoutMs: 20 })
    const stuck = await geometry
      .run('shapeOf', [fragmentedLogits(3), LOW_RES_SIZE, LOW_RES_SIZE, 4000, 3000, {}])
      .catch((err: unknown) => err)
    expect(String(stuck)).toMatch(/geometry task 'shapeOf' ran over 20 ms/)
    const relaxed = pool({ size: 1 })
    const done = await relaxed.run('polygonGeometry', [[[0, 0, 10, 0, 10, 10, 0, 10]], 64, 48])
    expect(done.area).toBe(100)
    // The pool whose worker was stopped starts a new one for the next (quick) task.
    const again = await geometry
      .run('polygonGeometry', [[[0, 0, 10, 0, 10, 10, 0, 10]], 64, 48])
      .catch((err: unknown) => err)
    expect(again).toMatchObject({ area: 100 })
  })

  it('refuses work once closed', async () => {
    const geometry = pool()
    await geometry.close()
    await expect(geometry.run('polygonGeometry', [[[0, 0, 10, 0, 10, 10, 0, 10]], 64, 48])).rejects.toThrow(/closed/)
  })
})
