// Exports that leave dimensions open (symbolic, as exports made without onnx-simplifier name
// them, e.g. `Clipmasks_dim_0`) load when a probe run returns the model interface's shapes, and
// then segment like the same model declared in full. Only a real conflict is refused: a fixed
// dimension that differs, or an open one whose probe run returns the wrong size, with the file,
// the tensor and both shapes named. The exports are the demo model with its declarations
// rewritten (and, once, the stub of tests/helpers/onnx-stub.ts), made in a temp folder.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDemoDecoder, buildDemoEncoder, writeDemoModel } from '../../scripts/demo-model/index.ts'
import { UserError } from '../../src-main/core/errors.ts'
import { Engine } from '../../src-main/core/segment/engine.ts'
import {
  DECODER_OUTPUTS_A,
  DECODER_OUTPUTS_B,
  ENCODER_INPUTS,
  ENCODER_OUTPUTS,
  type TensorSpec,
} from '../../src-main/core/segment/model-interface.ts'
import { checkModelFolder } from '../../src-main/core/segment/model.ts'
import { BLUE, drawScene, RED } from '../helpers/demo-scenes.ts'
import { rewriteModel, type OpenDims } from '../helpers/onnx-rewrite.ts'
import { buildStubModel } from '../helpers/onnx-stub.ts'

const DEMO = resolve(import.meta.dirname, '..', '..', 'models', 'demo')
const root = mkdtempSync(join(tmpdir(), 'sam-open-dims-'))
const image = join(root, 'disc.png')
const OUTPUTS = { A: DECODER_OUTPUTS_A, B: DECODER_OUTPUTS_B } as const
/** The demo model declared in full, per decoder variant. */
const FULL = { A: DEMO, B: join(root, 'full-b') }

beforeAll(async () => {
  await writeDemoModel(FULL.B, { variant: 'B' })
  const scene = await drawScene({
    name: 'disc',
    width: 320,
    height: 240,
    background: BLUE,
    target: '<circle cx="170" cy="110" r="60"/>',
    targetColour: RED,
    click: [165, 105],
  })
  await sharp(scene.rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } })
    .png()
    .toFile(image)
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

let n = 0
function modelDir(encoder: Uint8Array, decoder: Uint8Array): string {
  const dir = join(root, `m${n++}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'encoder.onnx'), encoder)
  writeFileSync(join(dir, 'decoder.onnx'), decoder)
  return dir
}

const allOpen = (specs: readonly TensorSpec[]): Record<string, OpenDims> =>
  Object.fromEntries(specs.map((s) => [s.name, 'all' as const]))

async function refusal(dir: string): Promise<string> {
  const err = await checkModelFolder(dir).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(UserError)
  return (err as Error).message
}

describe.each(['A', 'B'] as const)('decoder variant %s with every output dimension open', (variant) => {
  it('loads, reports the shapes its probe run returned, and segments like the model declared in full', async () => {
    const dir = modelDir(
      rewriteModel(buildDemoEncoder(), { open: allOpen(ENCODER_OUTPUTS) }),
      rewriteModel(buildDemoDecoder(variant), { open: allOpen(OUTPUTS[variant]) }),
    )
    const report = await checkModelFolder(dir)
    expect(report.decoderVariant).toBe(variant)
    for (const [outputs, specs] of [
      [report.encoder.outputs, ENCODER_OUTPUTS],
      [report.decoder.outputs, OUTPUTS[variant]],
    ] as const) {
      for (const spec of specs) {
        const output = outputs.find((o) => o.name === spec.name)!
        // The runtime itself sees these dimensions open, as with the real export.
        expect(output.shape.every((d) => typeof d === 'string')).toBe(true)
        expect(output.returned).toEqual(spec.shape)
      }
    }

    const [open, full] = await Promise.all([Engine.open({ modelDir: dir }), Engine.open({ modelDir: FULL[variant] })])
    try {
      expect(open.info.decoderVariant).toBe(variant)
      const prompt = { points: [{ x: 165, y: 105, label: 1 as const }] }
      const [a, b] = [await open.segment(image, prompt), await full.segment(image, prompt)]
      expect(a.area).toBeGreaterThan(0.9 * Math.PI * 60 * 60)
      expect(a.scores).toEqual(b.scores)
      expect(a.segmentation).toEqual(b.segmentation)
    } finally {
      await Promise.all([open.close(), full.close()])
    }
  })
})

describe('exports that leave dimensions open', () => {
  it('accepts open input dimensions (a dynamic batch) when the probe run returns the interface shapes', async () => {
    const dir = modelDir(
      rewriteModel(buildDemoEncoder(), { open: { image: [0] } }),
      rewriteModel(buildDemoDecoder('A'), { open: { image_embed: [0], high_res_feats_0: [0], mask_input: [0] } }),
    )
    const report = await checkModelFolder(dir)
    expect(report.encoder.inputs[0].shape[0]).toBe('Reshapeimage_dim_0')
    expect(report.decoderVariant).toBe('A')
  })

  it('refuses a fixed dimension that differs, naming the file, the tensor and both shapes', async () => {
    const message = await refusal(
      modelDir(buildDemoEncoder(), rewriteModel(buildDemoDecoder('B'), { fixed: { masks: [1, 3, 512, 512] } })),
    )
    expect(message).toMatch(/decoder\.onnx/)
    expect(message).toMatch(/'masks'/)
    expect(message).toMatch(/\[1,3,512,512\]/)
    expect(message).toMatch(/\[1,3,256,256\]/)
  })

  it('refuses an open dimension whose probe run returns the wrong size, naming the file, the tensor and both shapes', async () => {
    // Variant A's outputs swapped: `masks` is really the 256x256 logits, declared open.
    const decoder = rewriteModel(buildDemoDecoder('A'), {
      rename: { masks: 'low_res_masks', low_res_masks: 'masks' },
      open: allOpen(DECODER_OUTPUTS_A),
    })
    const message = await refusal(modelDir(buildDemoEncoder(), decoder))
    expect(message).toMatch(/decoder\.onnx/)
    expect(message).toMatch(/'masks'/)
    expect(message).toContain(
      'declares shape [Reshapemasks_dim_0,Reshapemasks_dim_1,Reshapemasks_dim_2,Reshapemasks_dim_3]',
    )
    expect(message).toContain('a probe run returned float32 [1,3,256,256], expected float32 [1,3,1024,1024]')

    // An encoder whose open outputs come back as [1,1,1,1]: the stub expands its outputs to that.
    const stub = buildStubModel(
      ENCODER_INPUTS.map((t) => ({ name: t.name, shape: [...t.shape] })),
      ENCODER_OUTPUTS.map((t) => ({ name: t.name, shape: [1, 1, 1, 1] })),
    )
    const encoder = rewriteModel(stub, { open: allOpen(ENCODER_OUTPUTS) })
    const encoderMessage = await refusal(modelDir(encoder, buildDemoDecoder('A')))
    expect(encoderMessage).toMatch(/encoder\.onnx/)
    expect(encoderMessage).toContain(
      "output 'high_res_feats_0' declares shape [Reshapehigh_res_feats_0_dim_0,Reshapehigh_res_feats_0_dim_1,Reshapehigh_res_feats_0_dim_2,Reshapehigh_res_feats_0_dim_3]",
    )
    expect(encoderMessage).toContain('a probe run returned float32 [1,1,1,1], expected float32 [1,32,256,256]')
  })
})
