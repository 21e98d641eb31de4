// `sam-annotator eval`: the click simulator over a labelled folder with the demo model: the
// --json object's shape, figures that follow from the scenes (flat shapes the demo model finds
// in one click), per-category rows, and one-line refusals of bad input.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rleEncode, rleToString } from '../../src-main/core/segment/rle.ts'
import { DEMO_MODEL, runCli } from '../helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'sam-cli-eval-'))
const folder = join(dir, 'images')
const truth = join(dir, 'truth.json')
const cli = (...args: string[]) => runCli(args, { cwd: dir })

beforeAll(async () => {
  mkdirSync(folder)
  const svg = (body: string) =>
    Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="150"><rect width="100%" height="100%" fill="#e6d7b4"/>${body}</svg>`,
    )
  await sharp(
    svg('<rect x="20" y="30" width="60" height="50" fill="#2870be"/><circle cx="150" cy="90" r="30" fill="#d23c28"/>'),
  )
    .png()
    .toFile(join(folder, 'a.png'))
  await sharp(svg('<rect x="100" y="20" width="80" height="40" fill="#2e8b3a"/>')).png().toFile(join(folder, 'b.png'))
  // The circle as RLE, to evaluate both kinds of truth.
  const disc = new Uint8Array(200 * 150)
  for (let y = 0; y < 150; y++)
    for (let x = 0; x < 200; x++) if (Math.hypot(x + 0.5 - 150, y + 0.5 - 90) < 30) disc[y * 200 + x] = 1
  writeFileSync(
    truth,
    JSON.stringify({
      images: [
        { id: 1, file_name: 'a.png', width: 200, height: 150 },
        { id: 2, file_name: 'b.png', width: 200, height: 150 },
      ],
      categories: [
        { id: 1, name: 'box' },
        { id: 2, name: 'disc' },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, segmentation: [[20, 30, 80, 30, 80, 80, 20, 80]], iscrowd: 0 },
        { id: 2, image_id: 1, category_id: 2, segmentation: rleToString(rleEncode(disc, 200, 150)), iscrowd: 0 },
        { id: 3, image_id: 2, category_id: 1, segmentation: [[100, 20, 180, 20, 180, 60, 100, 60]], iscrowd: 0 },
        { id: 4, image_id: 2, category_id: 1, bbox: [0, 0, 10, 10], iscrowd: 0 },
      ],
    }),
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('sam-annotator eval', () => {
  it('prints one JSON object: NoC@85/90, failures, mean IoU per click, seconds per click, per category', async () => {
    const r = await cli('eval', folder, '--truth', truth, '--max-clicks', '5', '--model', DEMO_MODEL, '--json')
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(Object.keys(report).sort()).toEqual(['failed', 'miou', 'noc', 'objects', 'perCategory', 'secondsPerClick'])
    expect(report.objects).toBe(3)
    expect(Object.keys(report.noc).sort()).toEqual(['85', '90'])
    expect(report.miou).toHaveLength(5)
    // Flat shapes on a flat background: the demo model's first click finds each of them.
    expect(report.noc['85']).toBe(1)
    expect(report.failed).toEqual({ '85': 0, '90': 0 })
    expect(report.miou[0]).toBeGreaterThan(0.95)
    expect(report.secondsPerClick).toBeGreaterThan(0)
    expect(Object.keys(report.perCategory).sort()).toEqual(['box', 'disc'])
    expect(report.perCategory.box).toMatchObject({ objects: 2, failed: { '85': 0, '90': 0 } })
    expect(report.perCategory.disc.objects).toBe(1)
    expect(report.perCategory.disc.miou).toHaveLength(5)
  })

  it('prints a line overall and per category, and what it did not evaluate', async () => {
    const r = await cli('eval', folder, '--truth', truth, '--max-clicks', '3', '--model', DEMO_MODEL)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^all: 3 object\(s\), NoC@85 1\.00, NoC@90 1\.00, failed@85 0, failed@90 0/m)
    expect(r.stdout).toMatch(/^ {2}box: 2 object\(s\)/m)
    expect(r.stdout).toMatch(/not evaluated: 0 crowd region\(s\), 1 box\(es\) without a mask/)
  })

  it('refuses bad input with one line naming the value', async () => {
    const noTruth = await cli('eval', folder, '--model', DEMO_MODEL)
    expect(noTruth.code).toBe(1)
    expect(noTruth.stderr.trim()).toBe('error: eval: --truth <coco.json> is required')
    const clicks = await cli('eval', folder, '--truth', truth, '--max-clicks', '0')
    expect(clicks.stderr).toMatch(/--max-clicks: expected a whole number from 1 to 100, got '0'/)
    const region = await cli('eval', folder, '--truth', truth, '--region', 'auto')
    expect(region.stderr).toMatch(/--region: 'auto' is not available/)
    const elsewhere = join(dir, 'elsewhere')
    mkdirSync(elsewhere)
    const missing = await cli('eval', elsewhere, '--truth', truth, '--model', DEMO_MODEL)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/a\.png: not found \(images\[0\] of .*truth\.json\)/)
  })
})
