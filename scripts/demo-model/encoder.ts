// The demo encoder graph: undoes the SAM input normalisation and stores block-averaged colour
// at the three SAM 2.1 feature resolutions. Channel 3 of each output holds the block's colour
// spread (RMS distance of its pixels to the block mean): the decoder uses it at the coarse
// levels to grow only over "pure" blocks, so a region cannot leak through a block that
// straddles an edge. The remaining channels are zero; they exist only to honour the model interface.

import {
  ENCODER_INPUTS,
  ENCODER_OUTPUTS,
  PIXEL_MEAN,
  PIXEL_STD,
  type TensorSpec,
} from '../../src-main/core/segment/model-interface.ts'
import { GraphBuilder, buildGraph, encodeModel, ints, valueInfo } from './onnx-graph.ts'
import { DEMO_BANNER, DEMO_PRODUCER, DEMO_VERSION } from './banner.ts'

/** Channels of the encoder outputs that carry information; the rest are zero padding. */
export const COLOUR_CHANNELS = 3
export const SPREAD_CHANNEL = 3

function spec(list: readonly TensorSpec[], name: string): TensorSpec {
  const found = list.find((t) => t.name === name)
  if (!found) throw new Error(`model-interface.ts has no tensor ${name}`)
  return found
}

function fixedShape(t: TensorSpec): number[] {
  return t.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`${t.name}: the encoder has only fixed dims`)
    return d
  })
}

export function buildDemoEncoder(): Uint8Array {
  const b = new GraphBuilder()
  const image = spec(ENCODER_INPUTS, 'image')
  const [, , size] = fixedShape(image)

  // rgb = image * std + mean, back to 0..1 colour.
  const std = b.constFloat([...PIXEL_STD], [1, 3, 1, 1], 'std')
  const mean = b.constFloat([...PIXEL_MEAN], [1, 3, 1, 1], 'mean')
  const rgb = b.add(b.mul('image', std), mean)
  const rgbSq = b.mul(rgb, rgb)

  // Block means of colour and squared colour, each level pooled from the finer one (an average
  // of averages over equal blocks is exact) so the 1024x1024 image is read only once.
  const levels = ['high_res_feats_0', 'high_res_feats_1', 'image_embed'].map((name) => spec(ENCODER_OUTPUTS, name))
  let prevMean = rgb
  let prevSq = rgbSq
  let prevSize = size
  for (const out of levels) {
    const [, channels, res] = fixedShape(out)
    const k = prevSize / res
    const pool = { kernel_shape: ints([k, k]), strides: ints([k, k]) }
    const m = b.op('AveragePool', [prevMean], pool)
    const sq = b.op('AveragePool', [prevSq], pool)
    // Spread: sqrt(sum over channels of E[x^2] - E[x]^2), floored at 0 against rounding.
    const variance = b.op('Relu', [b.reduceSum(b.sub(sq, b.mul(m, m)), [1], true)])
    const spread = b.op('Sqrt', [variance])
    const used = b.op('Concat', [m, spread], { axis: { kind: 'int', value: 1 } })
    const pads = b.constInt64([0, 0, 0, 0, 0, channels - COLOUR_CHANNELS - 1, 0, 0], [8], 'pads')
    b.opTo(out.name, 'Pad', [used, pads])
    prevMean = m
    prevSq = sq
    prevSize = res
  }

  const g = buildGraph(
    b,
    'demo_encoder',
    ENCODER_INPUTS.map((t) => valueInfo(t.name, 'float', t.shape)),
    ENCODER_OUTPUTS.map((t) => valueInfo(t.name, 'float', t.shape)),
  )
  return encodeModel(g, {
    producerName: DEMO_PRODUCER,
    producerVersion: DEMO_VERSION,
    docString: `${DEMO_BANNER} Encoder.`,
  })
}
