// `eval` and `--region` through the CLI as a user runs them: the --json report's shape and
// sense on a generated labelled folder (polygon and RLE ground truth), and the region options'
// output and errors.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src-main/cli.ts'
import { DEMO_MODEL, runCli, type CliResult } from '../helpers/cli.ts'
import { smallObjectSet, writeLabelledFolder, type LabelledImage } from '../helpers/small-objects.ts'

const dir = mkdtempSync(join(tmpdir(), 'sam-eval-'))
let truth = ''
let images: LabelledImage[] = []

beforeAll(async () => {
  images = smallObjectSet({ count: 2, width: 1600, height: 1200, small: 2, large: 1, seed: 11 })
  truth = await writeLabelledFolder(dir, images)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The CLI in this process (a child process costs a second and a half to start): same main, same streams. */
async function inProcess(args: string[]): Promise<CliResult> {
  const out: string[] = [],
    err: string[] = []
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) })
  return { code, stdout: out.join('\n'), stderr: err.join('\n') }
}

const isProbability = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1

function expectSummary(s: Record<string, unknown>, objects: number, maxClicks: number): void {
  expect(s.objects).toBe(objects)
  const noc = s.noc as Record<string, number>
  const failed = s.failed as Record<string, number>
  expect(Object.keys(noc).sort()).toEqual(['85', '90'])
  expect(Object.keys(failed).sort()).toEqual(['85', '90'])
  for (const k of ['85', '90']) {
    expect(noc[k]).toBeGreaterThanOrEqual(1)
    expect(noc[k]).toBeLessThanOrEqual(maxClicks)
    expect(Number.isInteger(failed[k]) && failed[k] >= 0 && failed[k] <= objects).toBe(true)
  }
  expect(noc['90']).toBeGreaterThanOrEqual(noc['85'])
  expect(s.miou).toHaveLength(maxClicks)
  expect((s.miou as unknown[]).every(isProbability)).toBe(true)
}

describe('sam-annotator eval', () => {
  it('--json prints one object: objects, noc, failed, miou per click, secondsPerClick, perCategory', async () => {
    const r = await runCli([
      'eval',
      dir,
      '--truth',
      truth,
      '--max-clicks',
      '3',
      '--region',
      'auto',
      '--model',
      DEMO_MODEL,
      '--json',
    ])
    expect(r.stderr).toMatch(/DEMO model/)
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as Record<string, unknown>
    expect(Object.keys(report).sort()).toEqual(
      ['failed', 'miou', 'noc', 'objects', 'perCategory', 'secondsPerClick', 'secondsPerEncode'].sort(),
    )
    expectSummary(report, 6, 3)
    expect(report.secondsPerClick).toBeGreaterThan(0)
    const perCategory = report.perCategory as Record<string, Record<string, unknown>>
    expect(Object.keys(perCategory).sort()).toEqual(['large', 'small'])
    expectSummary(perCategory.small, 4, 3)
    expectSummary(perCategory.large, 2, 3)
    expect(Object.keys(perCategory.small).sort()).toEqual(['failed', 'miou', 'noc', 'objects'])
    // Zoomed to each object, the demo model finds flat-colour objects with the first click.
    expect((report.miou as number[])[0]).toBeGreaterThan(0.9)
  })

  it('prints NoC, failures and mIoU per category as text, and names bad options', async () => {
    const r = await inProcess(['eval', dir, '--truth', truth, '--max-clicks', '2', '--model', DEMO_MODEL])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^all \(region off\): 6 objects, NoC@85 [\d.]+, NoC@90 [\d.]+, failed@2/m)
    expect(r.stdout).toMatch(/^ {2}small: 4 objects/m)
    expect(r.stdout).toMatch(/mIoU after clicks 1\.\.2: [\d.]+ [\d.]+$/m)
    const bad = await inProcess(['eval', dir, '--truth', truth, '--region', 'zoom'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/--region 'zoom': expected off or auto/)
    const missing = await inProcess(['eval', dir, '--truth', join(dir, 'nope.json')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/nope\.json: cannot read the ground truth \(not found\)/)
  })
})

describe('--region', () => {
  it('segment encodes the region and returns the object in full-image pixels', async () => {
    const o = images[0].objects.find((x) => x.category === 'small')!
    const cx = o.x + o.w / 2,
      cy = o.y + o.h / 2
    const r = await inProcess([
      'segment',
      join(dir, images[0].file),
      '--point',
      `${cx},${cy}`,
      '--region',
      `${Math.round(cx - 100)},${Math.round(cy - 60)},${Math.round(cx + 100)},${Math.round(cy + 60)}`,
      '--model',
      DEMO_MODEL,
      '--json',
    ])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { bbox: number[]; region: number[]; touchesRegionBorder: boolean }
    expect(out.bbox).toEqual([o.x, o.y, o.w, o.h])
    // Padded to a 200x200 square (clipped where it meets the image's edge).
    expect(out.region[2] - out.region[0]).toBeLessThanOrEqual(200)
    expect(out.region[3] - out.region[1]).toBeLessThanOrEqual(200)
    expect(out.touchesRegionBorder).toBe(false)
    const outside = await inProcess([
      'segment',
      join(dir, images[0].file),
      '--point',
      `${cx},${cy}`,
      '--region',
      '0,0,10,10',
      '--model',
      DEMO_MODEL,
    ])
    expect(outside.code).toBe(1)
    expect(outside.stderr).toMatch(/point 1: .* is outside the region 0,0,10,10/)
  })

  it('annotate saves the object segmented in the region, in full-image pixels', async () => {
    const o = images[1].objects.find((x) => x.category === 'small')!
    const cx = o.x + o.w / 2,
      cy = o.y + o.h / 2
    const r = await inProcess([
      'annotate',
      dir,
      '--image',
      images[1].file,
      '--category',
      'small',
      '--point',
      `${cx},${cy}`,
      '--region',
      `${Math.round(cx - 128)},${Math.round(cy - 128)},${Math.round(cx + 128)},${Math.round(cy + 128)}`,
      '--model',
      DEMO_MODEL,
      '--json',
    ])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { annotation: { bbox: number[] }; region: number[] }
    expect(out.annotation.bbox).toEqual([o.x, o.y, o.w, o.h])
    expect(out.region).toHaveLength(4)
  })
})
