// The engine end to end on real files: preprocessing, the real ONNX runtime with the demo model
// (both decoder variants), refinement through mask_input, and the polygons and COCO
// segmentation it returns, checked against the truth of synthetic scenes and against upstream's
// reference mask rasterised the way pycocotools does.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type * as ort from 'onnxruntime-node'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeDemoModel } from '../../scripts/demo-model/index.ts'
import { LOW_RES_SIZE } from '../../src-main/core/segment/model-interface.ts'
import { Engine } from '../../src-main/core/segment/engine.ts'
import type { Ring, Shape } from '../../src-main/core/segment/mask-geometry.ts'
import { loadModel, type LoadedModel, type ModelRunner } from '../../src-main/core/segment/model.ts'
import { Decoder, PromptHistory, type Embedding } from '../../src-main/core/segment/prompt.ts'
import { segmentationToLowResLogits } from '../../src-main/core/segment/mask-ops.ts'
import { rleDecode, rleEncode, rleFromString, type CompressedRle } from '../../src-main/core/segment/rle.ts'
import { drawScene, SINGLE_CLICK_SCENES, type Scene, type SceneSpec } from '../helpers/demo-scenes.ts'
import { referenceMask } from '../helpers/reference-mask.ts'
import {
  area as cocoAreaOf,
  frPolygons,
  iou as rleIou,
  toBbox as cocoBboxOf,
  type CocoRle,
} from '../helpers/pycocotools.ts'

const DEMO = resolve(import.meta.dirname, '..', '..', 'models', 'demo')
const dir = mkdtempSync(join(tmpdir(), 'sam-engine-'))
const engines: Record<'A' | 'B', Engine> = {} as Record<'A' | 'B', Engine>

beforeAll(async () => {
  await writeDemoModel(join(dir, 'demo-b'), { variant: 'B' })
  engines.A = await Engine.open({ modelDir: DEMO })
  engines.B = await Engine.open({ modelDir: join(dir, 'demo-b') })
})
afterAll(async () => {
  await Promise.all(Object.values(engines).map((e) => e.close()))
  rmSync(dir, { recursive: true, force: true })
})

/** Row-major 0/1 mask to the helper's RLE form, for its IoU (rleEncode is tested on its own). */
function maskToCoco(mask: Uint8Array, w: number, h: number): CocoRle {
  return { h, w, cnts: rleEncode(mask, w, h).counts }
}

/** The exported segmentation rasterised independently: pycocotools' polygon fill, or the RLE. */
function rasterised(segmentation: number[][] | CompressedRle, w: number, h: number): CocoRle {
  if (Array.isArray(segmentation)) return frPolygons(segmentation, h, w)
  return maskToCoco(rleDecode(rleFromString(segmentation)), w, h)
}

function segmentsCross(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
  dx: number,
  dy: number,
): boolean {
  const o = (px: number, py: number, qx: number, qy: number, rx: number, ry: number) =>
    (qx - px) * (ry - py) - (qy - py) * (rx - px)
  const d1 = o(cx, cy, dx, dy, ax, ay)
  const d2 = o(cx, cy, dx, dy, bx, by)
  const d3 = o(ax, ay, bx, by, cx, cy)
  const d4 = o(ax, ay, bx, by, dx, dy)
  return d1 * d2 < 0 && d3 * d4 < 0
}

/** Closed (>= 3 distinct points), inside the image, and no two edges of any rings cross. */
function expectValidShape(shape: Shape, w: number, h: number): void {
  const rings: Ring[] = shape.parts.flatMap((p) => [p.outer, ...p.holes])
  expect(rings.length).toBeGreaterThan(0)
  const edges: number[][] = []
  for (const r of rings) {
    expect(r.length % 2).toBe(0)
    expect(
      new Set(Array.from({ length: r.length / 2 }, (_, i) => `${r[2 * i]},${r[2 * i + 1]}`)).size,
    ).toBeGreaterThanOrEqual(3)
    for (let i = 0; i < r.length; i += 2) {
      expect(r[i]).toBeGreaterThanOrEqual(0)
      expect(r[i]).toBeLessThanOrEqual(w)
      expect(r[i + 1]).toBeGreaterThanOrEqual(0)
      expect(r[i + 1]).toBeLessThanOrEqual(h)
      const j = (i + 2) % r.length
      edges.push([r[i], r[i + 1], r[j], r[j + 1]])
    }
  }
  let crossings = 0
  for (let i = 0; i < edges.length; i++) {
    for (let j = i + 1; j < edges.length; j++) {
      const [a, b] = [edges[i], edges[j]]
      if (segmentsCross(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3])) crossings++
    }
  }
  expect(crossings).toBe(0)
}

async function sceneFile(scene: Scene, name = scene.name): Promise<string> {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.png`)
  await sharp(scene.rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } })
    .png()
    .toFile(file)
  return file
}

// Beyond the single-click scenes: a large, very non-square image and a 4000x3000 one.
const EXTRA_SCENES: SceneSpec[] = [
  {
    name: 'wide ellipse 6000x1000',
    width: 6000,
    height: 1000,
    background: '#e6d7b4',
    target: '<ellipse cx="2500" cy="480" rx="1700" ry="300"/>',
    targetColour: '#2870be',
    click: [2500, 480],
  },
  {
    name: 'polygon 4000x3000',
    width: 4000,
    height: 3000,
    background: '#505050',
    target: '<polygon points="900,700 2900,500 3300,2300 1800,2700 1100,1900"/>',
    targetColour: '#f0c828',
    click: [2000, 1500],
  },
]

const scenes = new Map<string, Scene>()
const files = new Map<string, string>()
beforeAll(async () => {
  for (const spec of [...SINGLE_CLICK_SCENES, ...EXTRA_SCENES]) {
    const scene = await drawScene(spec)
    scenes.set(spec.name, scene)
    files.set(spec.name, await sceneFile(scene))
  }
})

describe.each(['A', 'B'] as const)('engine with decoder variant %s', (variant) => {
  it.each([...SINGLE_CLICK_SCENES, ...EXTRA_SCENES].map((s) => s.name))(
    '%s: one click gives the object (IoU >= 0.95) and polygons that match the reference mask (IoU >= 0.99)',
    async (name) => {
      const engine = engines[variant]
      expect(engine.info.decoderVariant).toBe(variant)
      const scene = scenes.get(name)!
      const { embedding } = await engine.encode(files.get(name)!)
      expect([embedding.width, embedding.height]).toEqual([scene.width, scene.height])
      const state = await engine
        .prompt(embedding)
        .decode({ points: [{ x: scene.click[0] + 0.5, y: scene.click[1] + 0.5, label: 1 }] })
      const result = engine.shapeOf(state, scene.width, scene.height)
      const { width: w, height: h } = scene

      // Against the truth of the scene.
      const exported = rasterised(result.segmentation, w, h)
      const truthIou = rleIou(exported, maskToCoco(scene.truth, w, h))
      expect(truthIou, `truth IoU for ${name}`).toBeGreaterThanOrEqual(0.95)

      // Against upstream's reference mask of the same logits.
      const reference = referenceMask(state.logits[state.chosen], LOW_RES_SIZE, LOW_RES_SIZE, w, h)
      const fidelity = rleIou(exported, maskToCoco(reference, w, h))
      expect(fidelity, `reference IoU for ${name}`).toBeGreaterThanOrEqual(0.99)
      // Also through pycocotools' polygon fill when the engine exported RLE (holes).
      if (!Array.isArray(result.segmentation)) {
        const outers = frPolygons(
          result.shape.parts.map((p) => p.outer),
          h,
          w,
        )
        expect(rleIou(outers, maskToCoco(reference, w, h))).toBeLessThan(fidelity)
      }

      expectValidShape(result.shape, w, h)
      // bbox and area agree with the segmentation as COCO tools read it, up to their own
      // rounding of polygon vertices to 1/5 px (exact for RLE).
      const cocoArea = cocoAreaOf(exported)
      const slack = Array.isArray(result.segmentation) ? Math.max(2, 0.001 * cocoArea) : 0
      expect(Math.abs(result.area - cocoArea)).toBeLessThanOrEqual(slack)
      const cocoBbox = cocoBboxOf(exported)
      for (let i = 0; i < 4; i++) expect(Math.abs(result.bbox[i] - cocoBbox[i])).toBeLessThanOrEqual(slack ? 1 : 0)
    },
  )
})

describe('engine: scenes with more than one part or a hole', () => {
  it('keeps the hole of the ring and exports it as RLE that round-trips', async () => {
    const scene = scenes.get('ring with a hole')!
    const engine = engines.A
    const { embedding } = await engine.encode(files.get(scene.name)!)
    const state = await engine
      .prompt(embedding)
      .decode({ points: [{ x: scene.click[0], y: scene.click[1], label: 1 }] })
    const result = engine.shapeOf(state, scene.width, scene.height)
    expect(result.hasHoles).toBe(true)
    expect(result.shape.parts).toHaveLength(1)
    expect(result.shape.parts[0].holes).toHaveLength(1)
    const seg = result.segmentation as CompressedRle
    expect(seg.size).toEqual([scene.height, scene.width])
    // The centre of the hole is not in the mask; the ring is.
    const mask = rleDecode(rleFromString(seg))
    expect(mask[500 * scene.width + 500]).toBe(0)
    expect(mask[500 * scene.width + 775]).toBe(1)
  })

  it('keeps separate parts when two positive clicks select both blobs', async () => {
    const scene = scenes.get('two blobs, click one')!
    const engine = engines.A
    const { embedding } = await engine.encode(files.get(scene.name)!)
    const state = await engine.prompt(embedding).decode({
      points: [
        { x: 560, y: 600, label: 1 },
        { x: 1450, y: 560, label: 1 },
      ],
    })
    const result = engine.shapeOf(state, scene.width, scene.height)
    expect(result.shape.parts).toHaveLength(2)
    expect(Array.isArray(result.segmentation)).toBe(true)
    expect((result.segmentation as number[][]).length).toBe(2)
  })
})

describe('engine: prompts and refinement', () => {
  let model: LoadedModel
  let embedding: Embedding
  const runs: { hasMask: number; mask: Float32Array; n: number }[] = []
  // A recording wrapper around the real decoder session: the real run happens, and the test
  // sees what was fed to it.
  let spy: ModelRunner
  const joined: SceneSpec = {
    name: 'rectangle joined to a circle',
    width: 1600,
    height: 1000,
    background: '#e6d7b4',
    target: '<rect x="200" y="300" width="700" height="400"/><circle cx="1150" cy="500" r="260"/>',
    targetColour: '#2e8b3a',
    click: [500, 500],
  }

  beforeAll(async () => {
    model = await loadModel(DEMO)
    const scene = await drawScene(joined)
    const file = await sceneFile(scene)
    embedding = (await engines.A.encode(file)).embedding
    spy = new Proxy(model.decoder, {
      get(target, prop, receiver) {
        if (prop === 'run') {
          return (feeds: Record<string, ort.Tensor>, names: string[]) => {
            runs.push({
              hasMask: (feeds.has_mask_input.data as Float32Array)[0],
              mask: (feeds.mask_input.data as Float32Array).slice(),
              n: feeds.point_labels.dims[1],
            })
            return target.run(feeds, names)
          }
        }
        return Reflect.get(target, prop, receiver)
      },
    })
  })
  afterAll(() => model.release())

  const areaOf = (logits: Float32Array) => logits.reduce((n, v) => n + (v > 0 ? 1 : 0), 0)

  it('a negative click removes a region', async () => {
    const session = new PromptHistory(new Decoder(spy, model.info.decoderVariant, embedding))
    const pos = { x: 500, y: 500, label: 1 as const }
    const first = await session.decode({ points: [pos] })
    const firstGeometry = engines.A.shapeOf(first, 1600, 1000)
    // The positive click grows over the whole same-coloured shape, circle included.
    expect(firstGeometry.bbox[0] + firstGeometry.bbox[2]).toBeGreaterThan(1350)
    const second = await session.decode({ points: [pos, { x: 1250, y: 500, label: 0 }] })
    const g = engines.A.shapeOf(second, 1600, 1000)
    // The circle (right of x = 900) is mostly gone; the rectangle stays.
    expect(g.bbox[0]).toBeLessThan(210)
    expect(g.bbox[0] + g.bbox[2]).toBeLessThan(1150)
    expect(g.area).toBeGreaterThan(0.9 * 700 * 400)
    expect(g.area).toBeLessThan(firstGeometry.area - 0.3 * Math.PI * 260 * 260)
  })

  it('feeds the chosen candidate back as mask_input, restores exactly on removal, resets on a new object', async () => {
    runs.length = 0
    const session = new PromptHistory(new Decoder(spy, model.info.decoderVariant, embedding))
    const p1 = { x: 500, y: 500, label: 1 as const }
    const p2 = { x: 1250, y: 500, label: 0 as const }
    const p3 = { x: 300, y: 350, label: 1 as const }

    const s1 = await session.decode({ points: [p1] })
    expect(runs).toHaveLength(1)
    expect(runs[0].hasMask).toBe(0)
    expect(runs[0].mask.every((v) => v === 0)).toBe(true)
    expect(s1.chosen).toBe(s1.scores.indexOf(Math.max(...s1.scores)))
    const s1Logits = s1.logits.map((l) => l.slice())
    const s1Scores = [...s1.scores]

    const s2 = await session.decode({ points: [p1, p2] })
    expect(runs).toHaveLength(2)
    expect(runs[1].hasMask).toBe(1)
    expect(runs[1].n).toBe(2) // all points sent again
    const clamped = s1Logits[s1.chosen].map((v) => Math.max(-32, Math.min(32, v)))
    expect(runs[1].mask).toEqual(clamped)
    expect(areaOf(s2.logits[s2.chosen])).toBeLessThan(areaOf(s1Logits[s1.chosen]))

    // Backspace: the previous result comes back exactly, without running the decoder.
    const back = await session.decode({ points: [p1] })
    expect(runs).toHaveLength(2)
    expect(back.restored).toBe(true)
    expect(back.logits).toEqual(s1Logits)
    expect(back.scores).toEqual(s1Scores)
    expect(back.chosen).toBe(s1.chosen)

    // Choosing another candidate changes what feeds the next refinement.
    const other = (s1.chosen + 1) % 3
    session.choose(other)
    await session.decode({ points: [p1, p3] })
    expect(runs).toHaveLength(3)
    expect(runs[2].hasMask).toBe(1)
    expect(runs[2].mask).toEqual(s1Logits[other].map((v) => Math.max(-32, Math.min(32, v))))

    // A prompt that does not extend the history is a new object: no mask input.
    await session.decode({ points: [p3] })
    expect(runs).toHaveLength(4)
    expect(runs[3].hasMask).toBe(0)

    // The caller may pick the candidate up front.
    const picked = await session.decode({ points: [p3, p1] }, 2)
    expect(picked.chosen).toBe(2)
  })

  it('re-prompts a saved annotation: its mask is the first mask_input, and clicks refine it', async () => {
    // A saved annotation the model would never produce from a click: a square of background.
    const saved = [[20, 20, 150, 20, 150, 150, 20, 150]]
    const prior = segmentationToLowResLogits(saved, 1600, 1000)
    runs.length = 0
    const session = new PromptHistory(new Decoder(spy, model.info.decoderVariant, embedding))
    session.startFrom(prior)
    const refined = await session.decode({ points: [{ x: 500, y: 500, label: 1 }] })
    expect(runs).toHaveLength(1)
    expect(runs[0].hasMask).toBe(1)
    expect(runs[0].mask).toEqual(prior)
    // The click adds the green shape to what was saved; without the seed only the shape comes.
    const plain = await new PromptHistory(new Decoder(spy, model.info.decoderVariant, embedding)).decode({
      points: [{ x: 500, y: 500, label: 1 }],
    })
    const withSeed = engines.A.shapeOf(refined, 1600, 1000)
    const without = engines.A.shapeOf(plain, 1600, 1000)
    expect(withSeed.area - without.area).toBeGreaterThan(0.9 * 130 * 130)
    expect(withSeed.bbox[0]).toBeLessThan(25)
    expect(without.bbox[0]).toBeGreaterThan(150)
    // Removing the click goes back to the saved mask's state rather than running anything.
    await session.decode({
      points: [
        { x: 500, y: 500, label: 1 },
        { x: 1250, y: 500, label: 0 },
      ],
    })
    const back = await session.decode({ points: [{ x: 500, y: 500, label: 1 }] })
    expect(back.restored).toBe(true)
    // Engine.prompt(embedding, from) seeds the same way.
    const viaEngine = await engines.A.prompt(embedding, saved).decode({ points: [{ x: 500, y: 500, label: 1 }] })
    expect(viaEngine.logits[viaEngine.chosen]).toEqual(refined.logits[refined.chosen])
  })

  it('accepts a box prompt, alone or with points', async () => {
    const session = engines.A.prompt(embedding)
    const boxOnly = await session.decode({ points: [], box: { x0: 180, y0: 280, x1: 920, y1: 720 } })
    const g = engines.A.shapeOf(boxOnly, 1600, 1000)
    // Inside the box, up to one low-resolution cell (1600/256 = 6.25 px) of blur at its edge.
    expect(g.bbox[0]).toBeGreaterThanOrEqual(180 - 7)
    expect(g.bbox[0] + g.bbox[2]).toBeLessThanOrEqual(920 + 13)
    expect(g.area).toBeGreaterThan(0.8 * 700 * 400)
  })

  it('refuses bad prompts with a clear error', async () => {
    const session = engines.A.prompt(embedding)
    await expect(session.decode({ points: [] })).rejects.toThrow(/at least one point or a box/)
    await expect(session.decode({ points: [{ x: Number.NaN, y: 3, label: 1 }] })).rejects.toThrow(
      /point 1: coordinates must be finite/,
    )
    await expect(session.decode({ points: [{ x: 1700, y: 3, label: 1 }] })).rejects.toThrow(
      /outside the 1600x1000 image/,
    )
    await expect(session.decode({ points: [{ x: 10, y: 3, label: 2 as 1 }] })).rejects.toThrow(/label must be 0 or 1/)
    await expect(session.decode({ points: [], box: { x0: 5, y0: 5, x1: 5, y1: 50 } })).rejects.toThrow(/no area/)
    await expect(session.decode({ points: [{ x: 10, y: 3, label: 1 }] }, 5)).rejects.toThrow(/candidate 5/)
  })
})

describe('engine: EXIF orientation', () => {
  it('returns coordinates in the oriented frame', async () => {
    // The oriented (displayed) scene is 900x1400 with a rectangle at x 100..400, y 800..1300.
    const spec: SceneSpec = {
      name: 'exif',
      width: 900,
      height: 1400,
      background: '#2870be',
      target: '<rect x="100" y="800" width="300" height="500"/>',
      targetColour: '#f0c828',
      click: [250, 1050],
    }
    const scene = await drawScene(spec)
    // Stored rotated 90° counter-clockwise with orientation 6 ("rotate 90° clockwise to display").
    const file = join(dir, 'exif6.jpg')
    await sharp(
      await sharp(scene.rgb, { raw: { width: 900, height: 1400, channels: 3 } })
        .rotate(270)
        .png()
        .toBuffer(),
    )
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(file)
    const stored = await sharp(file).metadata()
    expect([stored.width, stored.height, stored.orientation]).toEqual([1400, 900, 6])

    const result = await engines.A.segment(file, { points: [{ x: 250, y: 1050, label: 1 }] })
    expect([result.width, result.height]).toEqual([900, 1400])
    const [x, y, w, h] = result.bbox
    expect(Math.abs(x - 100)).toBeLessThanOrEqual(3)
    expect(Math.abs(y - 800)).toBeLessThanOrEqual(3)
    expect(Math.abs(w - 300)).toBeLessThanOrEqual(6)
    expect(Math.abs(h - 500)).toBeLessThanOrEqual(6)
    const truthIou = rleIou(rasterised(result.segmentation, 900, 1400), maskToCoco(scene.truth, 900, 1400))
    expect(truthIou).toBeGreaterThanOrEqual(0.95)
    expect(result.timings.preprocess).toBeGreaterThan(0)
  })

  it('refuses an embedding from another model', async () => {
    const { embedding } = await engines.A.encode(files.get('circle')!)
    expect(() => engines.B.prompt({ ...embedding, modelId: 'something-else' })).toThrow(/something-else/)
  })
})
