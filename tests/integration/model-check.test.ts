// The model check refuses every near miss with an error naming the file and the tensor, and
// reports which execution provider runs and why the others did not.

import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  DECODER_INPUTS,
  DECODER_OUTPUTS_A,
  DECODER_OUTPUTS_B,
  ENCODER_INPUTS,
  ENCODER_OUTPUTS,
  type TensorSpec,
} from '../../src-main/core/segment/model-interface.ts'
import { checkModelFolder, loadModel, platformGpuProvider } from '../../src-main/core/segment/model.ts'
import { UserError } from '../../src-main/core/errors.ts'
import { buildStubModel, type StubTensor } from '../helpers/onnx-stub.ts'

const root = mkdtempSync(join(tmpdir(), 'sam-model-check-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const copy = (specs: readonly TensorSpec[]): StubTensor[] => specs.map((t) => ({ name: t.name, shape: [...t.shape] }))

let n = 0
function modelDir(parts: { encoder?: Uint8Array | string | null; decoder?: Uint8Array | string | null }): string {
  const dir = join(root, `m${n++}`)
  mkdirSync(dir)
  const enc = parts.encoder === undefined ? buildStubModel(copy(ENCODER_INPUTS), copy(ENCODER_OUTPUTS)) : parts.encoder
  const dec =
    parts.decoder === undefined ? buildStubModel(copy(DECODER_INPUTS), copy(DECODER_OUTPUTS_A)) : parts.decoder
  if (enc !== null) writeFileSync(join(dir, 'encoder.onnx'), enc)
  if (dec !== null) writeFileSync(join(dir, 'decoder.onnx'), dec)
  return dir
}

async function expectUserError(dir: string, ...patterns: RegExp[]): Promise<void> {
  const err = await checkModelFolder(dir).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(UserError)
  for (const p of patterns) expect((err as Error).message).toMatch(p)
}

describe('model check', () => {
  it('accepts the exact interface and detects both decoder variants', async () => {
    expect((await checkModelFolder(modelDir({}))).decoderVariant).toBe('A')
    const b = modelDir({ decoder: buildStubModel(copy(DECODER_INPUTS), copy(DECODER_OUTPUTS_B)) })
    expect((await checkModelFolder(b)).decoderVariant).toBe('B')
  })

  it('names the folder or file when files are missing, empty or garbage', async () => {
    await expectUserError(join(root, 'nowhere'), /nowhere/, /not found/)
    await expectUserError(modelDir({ encoder: null }), /encoder\.onnx/, /missing/)
    await expectUserError(modelDir({ decoder: null }), /decoder\.onnx/, /missing/)
    await expectUserError(modelDir({ encoder: '' }), /encoder\.onnx/, /empty/)
    await expectUserError(
      modelDir({ decoder: 'this is not a protobuf at all \u0000\u0001' }),
      /decoder\.onnx/,
      /cannot be loaded/,
    )
    // A truncated model: the first half of a real one.
    const good = buildStubModel(copy(ENCODER_INPUTS), copy(ENCODER_OUTPUTS))
    await expectUserError(modelDir({ encoder: good.slice(0, good.length >> 1) }), /encoder\.onnx/)
  })

  it('refuses wrong names, ranks, fixed dims and dtypes, naming the tensor and what was expected', async () => {
    // Hugging Face's export calls the input pixel_values.
    const hf = copy(ENCODER_INPUTS).map((t) => ({ ...t, name: 'pixel_values' }))
    await expectUserError(modelDir({ encoder: buildStubModel(hf, copy(ENCODER_OUTPUTS)) }), /encoder\.onnx/, /'image'/)
    // Wrong fixed dimension (a 512 export).
    const small = copy(ENCODER_INPUTS).map((t) => ({ ...t, shape: [1, 3, 512, 512] }))
    await expectUserError(
      modelDir({ encoder: buildStubModel(small, copy(ENCODER_OUTPUTS)) }),
      /'image'/,
      /dimension 2 must be 1024/,
    )
    // Wrong rank on an output.
    const rank = copy(ENCODER_OUTPUTS).map((t) => (t.name === 'image_embed' ? { ...t, shape: [256, 64, 64] } : t))
    await expectUserError(modelDir({ encoder: buildStubModel(copy(ENCODER_INPUTS), rank) }), /'image_embed'/, /rank 3/)
    // int64 point labels, as in some exports.
    const int64 = copy(DECODER_INPUTS).map((t) => (t.name === 'point_labels' ? { ...t, type: 'int64' as const } : t))
    await expectUserError(
      modelDir({ decoder: buildStubModel(int64, copy(DECODER_OUTPUTS_A)) }),
      /decoder\.onnx/,
      /'point_labels'/,
      /int64/,
    )
    // An extra orig_im_size input (SAM 1 style exports).
    const extra = [...copy(DECODER_INPUTS), { name: 'orig_im_size', shape: [2] }]
    await expectUserError(modelDir({ decoder: buildStubModel(extra, copy(DECODER_OUTPUTS_A)) }), /'orig_im_size'/)
    // Batch fixed at another size (a dynamic batch is no conflict: see model-open-dims.test.ts).
    const batch = copy(DECODER_INPUTS).map((t) => (t.name === 'image_embed' ? { ...t, shape: [2, 256, 64, 64] } : t))
    await expectUserError(
      modelDir({ decoder: buildStubModel(batch, copy(DECODER_OUTPUTS_A)) }),
      /'image_embed'/,
      /dimension 0 must be 1/,
    )
    // Missing output.
    const noIou = copy(DECODER_OUTPUTS_B).filter((t) => t.name !== 'iou_predictions')
    await expectUserError(
      modelDir({ decoder: buildStubModel(copy(DECODER_INPUTS), noIou) }),
      /missing output 'iou_predictions'/,
    )
  })

  it('refuses a bad config.json with the file named', async () => {
    const dir = modelDir({})
    writeFileSync(join(dir, 'config.json'), '{ not json')
    await expectUserError(dir, /config\.json/, /JSON/)
  })

  it('reports the provider that runs and why the others did not', async () => {
    const dir = modelDir({})
    const gpu = platformGpuProvider()
    const model = await loadModel(dir, gpu ? { providers: [gpu, 'cpu'] } : {})
    try {
      expect(model.info.providerAttempts.at(-1)!.ok).toBe(true)
      expect(model.info.provider).toBe(model.info.providerAttempts.find((a) => a.ok)!.provider)
      if (gpu && model.info.provider === 'cpu') {
        const failed = model.info.providerAttempts.find((a) => a.provider === gpu)!
        expect(failed.ok).toBe(false)
        expect(failed.reason.length).toBeGreaterThan(gpu.length + 2)
      }
    } finally {
      await model.release()
    }
  })
})
