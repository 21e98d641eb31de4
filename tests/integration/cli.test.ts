// The CLI as a user runs it: a real child process through bin/sam-annotator.js, real files, the
// demo model. Exit codes: 0 ok, 1 bad input with one line naming the file or value, 2 internal.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_MODEL, runCli } from '../helpers/cli.ts'
import { rleFromString } from '../../src-main/core/segment/rle.ts'

const dir = mkdtempSync(join(tmpdir(), 'sam-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const cli = (...args: string[]) => runCli(args, { cwd: dir })

let image = ''
let ringImage = ''
beforeAll(async () => {
  // 900x600: a blue rectangle on light grey; a second image with a green ring (has a hole).
  const w = 900
  const h = 600
  const raw = Buffer.alloc(w * h * 3, 220)
  const ring = Buffer.alloc(w * h * 3, 220)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x >= 200 && x < 500 && y >= 150 && y < 400) raw.set([30, 60, 200], (y * w + x) * 3)
      const r = Math.hypot(x + 0.5 - 450, y + 0.5 - 300)
      if (r < 200 && r > 90) ring.set([40, 160, 60], (y * w + x) * 3)
    }
  }
  image = join(dir, 'rect.png')
  ringImage = join(dir, 'ring.png')
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(image)
  await sharp(ring, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(ringImage)
})

describe('sam-annotator CLI', () => {
  it('segment --json prints one JSON object with the documented fields', async () => {
    const r = await cli('segment', image, '--point', '350,275', '--model', DEMO_MODEL, '--json')
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    const out = JSON.parse(lines[0])
    expect(out.width).toBe(900)
    expect(out.height).toBe(600)
    expect(out.model).toMatchObject({ id: 'demo', provider: expect.any(String), demo: true })
    expect([0, 1, 2]).toContain(out.candidate)
    expect(out.score).toBeGreaterThan(0)
    expect(Array.isArray(out.segmentation)).toBe(true)
    const [bx, by, bw, bh] = out.bbox
    expect(Math.abs(bx - 200)).toBeLessThanOrEqual(3)
    expect(Math.abs(by - 150)).toBeLessThanOrEqual(3)
    expect(Math.abs(bw - 300)).toBeLessThanOrEqual(6)
    expect(Math.abs(bh - 250)).toBeLessThanOrEqual(6)
    expect(out.area / (300 * 250)).toBeGreaterThan(0.95)
    expect(out.area / (300 * 250)).toBeLessThan(1.05)
    for (const k of ['preprocess', 'encode', 'decode', 'postprocess']) expect(out.timings[k]).toBeGreaterThanOrEqual(0)
    // The demo model is named plainly, even in JSON mode (on stderr, so stdout stays JSON).
    expect(r.stderr).toMatch(/DEMO model/)
  })

  it('writes compressed RLE for an object with a hole, and honours --candidate', async () => {
    const r = await cli('segment', ringImage, '--point', '450,150', '--model', DEMO_MODEL, '--json', '--candidate', '2')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.candidate).toBe(2)
    const auto = JSON.parse(
      (await cli('segment', ringImage, '--point', '450,150', '--model', DEMO_MODEL, '--json')).stdout,
    )
    expect(auto.segmentation).toMatchObject({ size: [600, 900], counts: expect.any(String) })
    const rle = rleFromString(auto.segmentation)
    expect(rle.counts.reduce((a: number, b: number) => a + b, 0)).toBe(600 * 900)
  })

  it('prints a readable summary without --json', async () => {
    const r = await cli('segment', image, '--point', '350,275', '--point', '50,50,0', '--model', DEMO_MODEL)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/900x600/)
    expect(r.stdout).toMatch(/area \d+ px/)
  })

  it('models check validates a folder and prints its interface', async () => {
    const r = await cli('models', 'check', DEMO_MODEL)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/OK/)
    expect(r.stdout).toMatch(/point_coords float32 \[1,N,2\]/)
    const bad = await cli('models', 'check', join(dir, 'no-such-model'))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/no-such-model/)
  })

  it('exits 1 with one line naming the file or value on bad input, never a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['segment', join(dir, 'missing.png'), '--point', '1,1', '--model', DEMO_MODEL], /missing\.png: file not found/],
      [['segment', image, '--point', '12,abc', '--model', DEMO_MODEL], /--point '12,abc'/],
      [['segment', image, '--point', '10,10,5', '--model', DEMO_MODEL], /label must be 0 or 1/],
      [['segment', image, '--point', '5000,10', '--model', DEMO_MODEL], /5000,10 is outside the 900x600 image/],
      [['segment', image, '--model', DEMO_MODEL], /at least one --point or a --box/],
      [['segment', image, '--point', '10,10', '--candidate', '7', '--model', DEMO_MODEL], /--candidate '7'/],
      [['segment', image, '--point', '10,10', '--model', join(dir, 'nope')], /nope: model folder not found/],
      [['segment', image, '--point', '10,10', '--frobnicate'], /frobnicate/],
      [['launch-rockets'], /unknown command 'launch-rockets'/],
    ]
    for (const [args, pattern] of cases) {
      const r = await cli(...args)
      expect({ args, code: r.code }).toEqual({ args, code: 1 })
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => !/^npm warn/.test(l))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(pattern)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('exits 1 on an unreadable image', async () => {
    const bad = join(dir, 'bad.jpg')
    writeFileSync(bad, 'not an image')
    const r = await cli('segment', bad, '--point', '1,1', '--model', DEMO_MODEL)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/bad\.jpg/)
  })
})
