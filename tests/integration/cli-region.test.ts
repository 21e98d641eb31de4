// Region encoding: SAM sees every image at 1024x1024, so a 10x8 object of an 8000x6000 photo
// is about 1 px at the encoder and cannot be segmented. Encoding a region around it gives it
// the encoder's full resolution. One click, with the demo model: near 0 IoU on the whole image,
// at least 0.8 with the region; the result is in the whole image's pixels either way, and a
// mask that reaches the region's edge says so.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { segmentationToRle } from '../../src-main/core/segment/mask-ops.ts'
import { rleDecode } from '../../src-main/core/segment/rle.ts'
import type { Segmentation } from '../../src-preload/contract/schemas.ts'
import { DEMO_MODEL, runCli } from '../helpers/cli.ts'

const W = 8000,
  H = 6000
// The small object: x 5000..5010, y 3000..3008.
const OBJECT = { x: 5000, y: 3000, w: 10, h: 8 }
const dir = mkdtempSync(join(tmpdir(), 'sam-cli-region-'))
const image = join(dir, 'large.png')
const cli = (...args: string[]) => runCli(args, { cwd: dir })

function iouWithObject(segmentation: Segmentation): number {
  const mask = rleDecode(segmentationToRle(segmentation, W, H))
  let inter = 0,
    area = 0
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const m = mask[y * W + x]
      const t = x >= OBJECT.x && x < OBJECT.x + OBJECT.w && y >= OBJECT.y && y < OBJECT.y + OBJECT.h ? 1 : 0
      area += m | t
      inter += m & t
    }
  }
  return area === 0 ? 0 : inter / area
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true })
  await sharp({ create: { width: W, height: H, channels: 3, background: '#e6d7b4' } })
    .composite([
      {
        input: { create: { width: OBJECT.w, height: OBJECT.h, channels: 3, background: '#2870be' } },
        left: OBJECT.x,
        top: OBJECT.y,
      },
    ])
    .png({ compressionLevel: 1 })
    .toFile(image)
}, 60_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('segment --region', () => {
  const click = `${OBJECT.x + 5},${OBJECT.y + 4}`

  it('finds a 10x8 object of an 8000x6000 image with a region around it, and not without', async () => {
    const whole = await cli('segment', image, '--point', click, '--model', DEMO_MODEL, '--json')
    expect(whole.code, whole.stderr).toBe(0)
    expect(iouWithObject(JSON.parse(whole.stdout).segmentation)).toBeLessThan(0.05)

    const region = await cli(
      'segment',
      image,
      '--point',
      click,
      '--region',
      '4880,2880,5136,3136',
      '--model',
      DEMO_MODEL,
      '--json',
    )
    expect(region.code, region.stderr).toBe(0)
    const result = JSON.parse(region.stdout)
    expect(result).toMatchObject({ width: W, height: H, region: { x0: 4880, y0: 2880, x1: 5136, y1: 3136 } })
    expect(result.touchesRegionBorder).toBe(false)
    expect(iouWithObject(result.segmentation)).toBeGreaterThanOrEqual(0.8)
    expect(result.bbox[0]).toBeGreaterThanOrEqual(OBJECT.x - 2)
  }, 60_000)

  it("says when the mask reaches the region's edge inside the image", async () => {
    // The region cuts the object in half: it continues outside.
    const r = await cli('segment', image, '--point', click, '--region', '4800,2900,5007,3107', '--model', DEMO_MODEL)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/the mask reaches the edge of the region: the object may continue outside it/)
  }, 60_000)

  it('refuses a region outside the image and a point outside the region, naming them', async () => {
    const outside = await cli('segment', image, '--point', click, '--region', '7000,5000,9000,6000')
    expect(outside.code).toBe(1)
    expect(outside.stderr).toMatch(/region 7000,5000,9000,6000 is not whole pixels .* inside the 8000x6000 image/)
    const away = await cli('segment', image, '--point', '10,10', '--region', '4880,2880,5136,3136')
    expect(away.stderr).toMatch(/point 1: 10,10 is outside the region 4880,2880,5136,3136/)
  })
})
