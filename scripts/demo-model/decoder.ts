// The demo decoder graph: a classical colour region grower behind the SAM 2.1 decoder
// interface. Positive and negative points each flood over pixels whose colour is close to a
// clicked colour; the floods compete, so a negative click inside a same-coloured area cuts it
// where the two fronts meet. Growth runs coarse to fine (64 -> 128 -> 256) so large objects
// are reached in few steps, with the seeds re-injected at every level so thin objects lost at
// a coarse level still grow at the fine one; each level is an ONNX Loop that stops when
// nothing changes. Three candidates use three colour tolerances; their floods are nested, so
// one channel counting "how many floods reached this pixel" carries all three. Near the
// region's edge the logits come from colour (how close a pixel is to the inside colour versus
// the outside colour), so the 0-level of the bilinear upsample lands at sub-pixel accuracy.

import {
  DECODER_INPUTS,
  DECODER_OUTPUTS_A,
  DECODER_OUTPUTS_B,
  LOW_RES_SIZE,
  MASK_LOGIT_CLAMP,
  MODEL_SIZE,
  type TensorSpec,
} from '../../src-main/core/segment/model-interface.ts'
import { DEMO_BANNER, DEMO_PRODUCER, DEMO_VERSION } from './banner.ts'
import { COLOUR_CHANNELS, SPREAD_CHANNEL } from './encoder.ts'
import { GraphBuilder, buildGraph, encodeModel, graph, int, ints, str, valueInfo } from './onnx-graph.ts'

export type DecoderVariant = 'A' | 'B'

/** Colour distance (RGB, 0..1 per channel, Euclidean) allowed by the three candidates. */
export const COLOUR_TOLERANCES = [0.06, 0.12, 0.22] as const
/** Coarse levels only grow over blocks whose colour spread is below this share of the tolerance. */
const PURITY_SHARE = 0.5
/** Logit magnitude inside and outside the region; the edge band ramps between them. */
export const DEMO_LOGIT = 12
/** Colour distance below which the edge band falls back to region membership. */
const EDGE_SIGMA = 0.02
/** The negative flood uses one tolerance (the medium) for all candidates, keeping them nested. */
const NEGATIVE_TOLERANCE = 1
/** Score bonus for the medium tolerance: SAM's middle candidate is usually the whole object. */
const MEDIUM_BONUS = 0.05

interface Level {
  /** Decoder input holding this level's colour features. */
  input: string
  size: number
  /** Upper bound on growth steps (3x3 dilations) at this level. */
  maxSteps: number
  /** Dilation steps per Loop iteration between convergence checks. */
  stepsPerIteration: number
  /** Coarse levels require pure blocks (see PURITY_SHARE). */
  pure: boolean
}

const LEVELS: readonly Level[] = [
  { input: 'image_embed', size: 64, maxSteps: 256, stepsPerIteration: 8, pure: true },
  { input: 'high_res_feats_1', size: 128, maxSteps: 256, stepsPerIteration: 8, pure: true },
  { input: 'high_res_feats_0', size: LOW_RES_SIZE, maxSteps: 300, stepsPerIteration: 4, pure: false },
]

/** Stands in for infinity when picking the box corners out of all points. */
const BIG = 1e6

interface Points {
  /** [P,1] x and y in model-input (1024) pixels, P = N + 1 (the graph's own extra point). */
  px: string
  py: string
  /** [P,1] 1 where the point is positive / negative, else 0. */
  isPos: string
  isNeg: string
  /** Box corners as scalars; meaningless unless hasBox is 1. */
  bx0: string
  by0: string
  bx1: string
  by1: string
  hasBox: string
}

/**
 * Reads the prompt. Like the real export, the graph appends its own point, so N = 0 works: a
 * padding point (label -1), or the box centre as a positive point when a box comes without
 * any positive point.
 */
function readPoints(b: GraphBuilder): Points {
  const axis1 = { axis: int(1) }
  const xy0 = b.op('Concat', ['point_coords', b.constFloat([0, 0], [1, 1, 2], 'padxy')], axis1)
  const lab0 = b.op('Concat', ['point_labels', b.constFloat([-1], [1, 1], 'padlab')], axis1)
  const xs0 = b.op('Gather', [xy0, b.constInt64([0], [], 'ix')], { axis: int(2) })
  const ys0 = b.op('Gather', [xy0, b.constInt64([1], [], 'iy')], { axis: int(2) })
  const isLabel = (label: number, labels: string): string => b.toFloat(b.op('Equal', [labels, b.scalar(label)]))
  const anyOf = (x: string): string => b.op('ReduceMax', [x], { keepdims: int(0) })

  const is2 = isLabel(2, lab0)
  const is3 = isLabel(3, lab0)
  const isCorner = b.max(is2, is3)
  const notCorner = b.mul(b.sub(b.scalar(1), isCorner), b.scalar(BIG))
  const hasBox = b.mul(anyOf(is2), anyOf(is3))
  const lowest = (v: string): string => b.op('ReduceMin', [b.add(v, notCorner)], { keepdims: int(0) })
  const highest = (v: string): string => b.op('ReduceMax', [b.sub(v, notCorner)], { keepdims: int(0) })
  const bx0 = lowest(xs0)
  const by0 = lowest(ys0)
  const bx1 = highest(xs0)
  const by1 = highest(ys0)

  const hasPos = anyOf(isLabel(1, lab0))
  const useCentre = b.mul(hasBox, b.sub(b.scalar(1), hasPos))
  const half = b.scalar(0.5)
  const cx = b.mul(b.mul(b.add(bx0, bx1), half), hasBox)
  const cy = b.mul(b.mul(b.add(by0, by1), half), hasBox)
  const centre = b.reshape(b.op('Concat', [b.reshape(cx, [1]), b.reshape(cy, [1])], { axis: int(0) }), [1, 1, 2])
  const extraLabel = b.reshape(b.sub(b.mul(useCentre, b.scalar(2)), b.scalar(1)), [1, 1])

  const pts = b.op('Concat', ['point_coords', centre], axis1)
  const labs = b.reshape(b.op('Concat', ['point_labels', extraLabel], axis1), [-1, 1])
  return {
    px: b.reshape(b.op('Gather', [pts, b.constInt64([0], [], 'ix')], { axis: int(2) }), [-1, 1]),
    py: b.reshape(b.op('Gather', [pts, b.constInt64([1], [], 'iy')], { axis: int(2) }), [-1, 1]),
    isPos: isLabel(1, labs),
    isNeg: isLabel(0, labs),
    bx0,
    by0,
    bx1,
    by1,
    hasBox,
  }
}

/** [P,R] one-hot rows: which pixel column (or row) of an R-grid each point falls in. */
function oneHot(b: GraphBuilder, coord: string, size: number): string {
  const cell = b.op('Clip', [
    b.op('Floor', [b.mul(coord, b.scalar(size / MODEL_SIZE))]),
    b.scalar(0),
    b.scalar(size - 1),
  ])
  const index = b.constFloat(
    Array.from({ length: size }, (_, i) => i),
    [1, size],
    'grid',
  )
  return b.toFloat(b.op('Equal', [cell, index]))
}

/** [1,1,R,R]: 1 on grid cells that overlap the box, all ones without a box. */
function boxMap(b: GraphBuilder, p: Points, size: number): string {
  const cellSize = MODEL_SIZE / size
  const lo = b.constFloat(
    Array.from({ length: size }, (_, i) => i * cellSize),
    [size],
    'lo',
  )
  const hi = b.constFloat(
    Array.from({ length: size }, (_, i) => (i + 1) * cellSize),
    [size],
    'hi',
  )
  const inside = (from: string, to: string): string =>
    b.mul(b.toFloat(b.op('Greater', [hi, from])), b.toFloat(b.op('Less', [lo, to])))
  const cols = b.reshape(inside(p.bx0, p.bx1), [1, size])
  const rows = b.reshape(inside(p.by0, p.by1), [size, 1])
  const map = b.max(b.mul(rows, cols), b.sub(b.scalar(1), p.hasBox))
  return b.reshape(map, [1, 1, size, size])
}

/** [1,1,R,R] positive and negative point seeds on an R-grid. */
function seedMaps(b: GraphBuilder, ex: string, ey: string, p: Points, size: number): [string, string] {
  const seeds = (weight: string): string => {
    const rows = b.op('Transpose', [b.mul(ey, weight)], { perm: ints([1, 0]) })
    return b.reshape(b.min(b.op('MatMul', [rows, ex]), b.scalar(1)), [1, 1, size, size])
  }
  return [seeds(p.isPos), seeds(p.isNeg)]
}

/**
 * [1,1,R,R] colour distance from each pixel to the nearest reference colour among the points
 * selected by `select` ([P,1] of 0/1); about 100 when none is selected.
 */
function nearestColourDistance(
  b: GraphBuilder,
  colour: string,
  refs: string,
  refsSq: string,
  select: string,
  size: number,
): string {
  const flat = b.reshape(colour, [COLOUR_CHANNELS, size * size])
  const dot = b.op('MatMul', [refs, flat])
  const flatSq = b.reduceSum(b.mul(flat, flat), [0], true)
  const distSq = b.add(b.sub(flatSq, b.mul(dot, b.scalar(2))), refsSq)
  const penalty = b.mul(b.sub(b.scalar(1), select), b.scalar(1e4))
  const nearest = b.op('ReduceMin', [b.add(distSq, penalty)], { axes: ints([0]), keepdims: int(1) })
  return b.reshape(b.op('Sqrt', [b.op('Relu', [nearest])]), [1, 1, size, size])
}

/** [3,1,R,R] colour distance between two colour maps ([.,3,R,R], broadcasting). */
function colourDistance(b: GraphBuilder, x: string, y: string): string {
  const d = b.sub(x, y)
  return b.op('Sqrt', [b.reduceSum(b.mul(d, d), [1], true)])
}

/**
 * Low-resolution logits [3,1,R,R] from the grown regions [3,1,R,R]: +L deep inside, -L away
 * from the region, and in the one-pixel band on both sides of its edge
 * L * (d_out - d_in) / (d_out + d_in), where d_in and d_out are the pixel's colour distances to
 * the local inside and outside colours. A pixel that is a blend f*inside + (1-f)*outside gets
 * L * (2f - 1) whatever the contrast, which puts the 0-level of the upsampled logits on the
 * edge to a fraction of a pixel.
 */
function edgeLogits(b: GraphBuilder, region: string, colour: string): string {
  const one = b.scalar(1)
  const grown = b.maxFilter(region)
  const core = b.sub(one, b.maxFilter(b.sub(one, region)))
  // Outside colour is read from pixels at least two away, so blended edge pixels stay out of it.
  const outside = b.sub(one, grown)
  // [6,4,R,R]: (colour, 1) times each candidate's region and outside mask, one broadcast Mul.
  const size = LOW_RES_SIZE
  const ones = b.op('Expand', [b.constFloat([1], [1, 1, 1, 1], 'one'), b.constInt64([1, 1, size, size], [4], 'shape')])
  const colourAndOne = b.op('Concat', [colour, ones], { axis: int(1) })
  const both = b.mul(colourAndOne, b.op('Concat', [region, outside], { axis: int(0) }))
  const rowPass = b.op('AveragePool', [both], {
    kernel_shape: ints([1, 5]),
    pads: ints([0, 2, 0, 2]),
    strides: ints([1, 1]),
  })
  const local = b.op('AveragePool', [rowPass], {
    kernel_shape: ints([5, 1]),
    pads: ints([2, 0, 2, 0]),
    strides: ints([1, 1]),
  })
  const sums = b.slice(local, 1, 0, COLOUR_CHANNELS)
  const counts = b.slice(local, 1, COLOUR_CHANNELS, COLOUR_CHANNELS + 1)
  const means = b.div(sums, b.max(counts, b.scalar(1e-6)))
  const n = COLOUR_TOLERANCES.length
  const dIn = colourDistance(b, colour, b.slice(means, 0, 0, n))
  const dOut = colourDistance(b, colour, b.slice(means, 0, n, 2 * n))
  const member = b.sub(b.mul(region, b.scalar(2)), one)
  const sigma = b.scalar(EDGE_SIGMA)
  const ratio = b.div(b.add(b.sub(dOut, dIn), b.mul(member, sigma)), b.add(b.add(dOut, dIn), sigma))
  const hasOutside = b.op('Greater', [b.slice(counts, 0, n, 2 * n), b.scalar(1e-4)])
  const band = b.mul(b.op('Where', [hasOutside, ratio, member]), b.scalar(DEMO_LOGIT))
  // core: +L; grown minus core: band; elsewhere: -L.
  const L = b.scalar(DEMO_LOGIT)
  return b.add(b.add(b.mul(core, L), b.mul(b.sub(grown, core), band)), b.mul(b.sub(grown, one), L))
}

/**
 * [1,3] scores: stability of each candidate, the IoU with its neighbouring tolerance(s),
 * mapped into 0.1..0.95, the medium one favoured slightly; 0.02 for an empty candidate.
 */
function scores(b: GraphBuilder, region: string, size: number): string {
  const flat = b.reshape(region, [COLOUR_TOLERANCES.length, size * size])
  const row = (i: number): string => b.slice(flat, 0, i, i + 1)
  const iou = (x: string, y: string): string =>
    b.div(b.reduceSum(b.mul(x, y), null, false), b.add(b.reduceSum(b.max(x, y), null, false), b.scalar(1e-6)))
  const tightMedium = b.reshape(iou(row(0), row(1)), [1])
  const mediumLoose = b.reshape(iou(row(1), row(2)), [1])
  const middle = b.mul(b.add(tightMedium, mediumLoose), b.scalar(0.5))
  const stability = b.reshape(b.op('Concat', [tightMedium, middle, mediumLoose], { axis: int(0) }), [1, 3])
  const bonus = b.constFloat([0, MEDIUM_BONUS, 0], [1, 3], 'bonus')
  const score = b.add(b.add(b.scalar(0.1), b.mul(stability, b.scalar(0.8))), bonus)
  const area = b.reshape(b.reduceSum(flat, [1], false), [1, 3])
  const nonEmpty = b.toFloat(b.op('Greater', [area, b.scalar(0.5)]))
  return b.add(b.mul(score, nonEmpty), b.mul(b.sub(b.scalar(1), nonEmpty), b.scalar(0.02)))
}

interface LevelMaps {
  level: Level
  /** [1,1,R,R] how many positive floods (tolerances) may enter each pixel, box applied. */
  posCount: string
  /** [1,1,R,R] pixels the negative flood may enter. */
  allowNeg: string
  /** [1,1,R,R] point seeds. */
  posSeeds: string
  negSeeds: string
  /** [1,1,R,R] box restriction. */
  box: string
}

/** Nearest-neighbour upsampling of a state map to the next level. */
function upsample(b: GraphBuilder, x: string, scale: number): string {
  return b.op('Resize', [x, '', b.constFloat([1, 1, scale, scale], [4], 'scales')], {
    mode: str('nearest'),
    coordinate_transformation_mode: str('asymmetric'),
    nearest_mode: str('floor'),
  })
}

/**
 * Coarse-to-fine growth. The three positive floods are nested (a looser tolerance allows a
 * superset, and all are blocked by the same negative flood), so one channel holds how many of
 * them reached a pixel: flood k spreads to p when a neighbour holds >= k and p allows >= k,
 * i.e. v = min(maxpool(v), allowedCount). Returns the finest level's counts and negative flood.
 */
function growLevels(b: GraphBuilder, levels: readonly LevelMaps[]): { counts: string; negative: string } {
  const n = COLOUR_TOLERANCES.length
  const one = b.scalar(1)
  let counts = ''
  let negative = ''
  for (const [i, m] of levels.entries()) {
    const posSeeds = b.mul(m.posSeeds, b.scalar(n))
    let countsInit = posSeeds
    let negativeInit = m.negSeeds
    if (i > 0) {
      const scale = m.level.size / levels[i - 1].level.size
      countsInit = b.max(b.min(upsample(b, counts, scale), m.posCount), posSeeds)
      negativeInit = b.max(b.mul(upsample(b, negative, scale), m.allowNeg), m.negSeeds)
    }
    const [grownCounts, grownNegative] = growLoop(b, countsInit, negativeInit, m, m.level)
    // Pixels both floods reached in the same Loop iteration belong to neither, so the next
    // level grows into them again from both sides at a finer step; after the last level they
    // go to the negative flood, which also keeps the previous mask out of them.
    counts = b.mul(grownCounts, b.sub(one, grownNegative))
    const last = i === levels.length - 1
    negative = last ? grownNegative : b.sub(grownNegative, b.mul(grownNegative, b.min(grownCounts, one)))
  }
  return { counts, negative }
}

/** One level's Loop: dilate both floods until their sizes stop changing or maxSteps is reached. */
function growLoop(
  b: GraphBuilder,
  countsInit: string,
  negativeInit: string,
  m: LevelMaps,
  level: Level,
): [string, string] {
  const body = b.subgraph()
  const names = ['iter', 'cond_in', 'v_in', 'neg_in', 'sum_in', 'cond_out', 'v_out', 'neg_out', 'sum_out']
  const [iter, condIn, vIn, negIn, sumIn, condOut, vOut, negOut, sumOut] = names.map((x) => body.fresh(x))
  const one = body.scalar(1)
  // Each flood may enter allowed pixels the other has not claimed when the iteration starts,
  // and keeps what it holds (seeds need not be allowed). Within an iteration the fronts do not
  // see each other, so they can overlap by a few pixels; growLevels settles that.
  const posGate = body.max(body.mul(m.posCount, body.sub(one, negIn)), vIn)
  const negGate = body.max(body.mul(m.allowNeg, body.sub(one, body.min(vIn, one))), negIn)
  let v = vIn
  let neg = negIn
  for (let i = 0; i < level.stepsPerIteration; i++) {
    const last = i === level.stepsPerIteration - 1
    v = last ? body.opTo(vOut, 'Min', [body.maxFilter(v), posGate]) : body.min(body.maxFilter(v), posGate)
    neg = last ? body.opTo(negOut, 'Min', [body.maxFilter(neg), negGate]) : body.min(body.maxFilter(neg), negGate)
  }
  // Both floods only grow, so an unchanged total means nothing changed.
  body.opTo(sumOut, 'Add', [body.reduceSum(v, null, false), body.reduceSum(neg, null, false)])
  body.opTo(condOut, 'Greater', [sumOut, sumIn])
  const shape = [1, 1, level.size, level.size]
  const bodyGraph = buildGraph(
    body,
    `grow_${level.size}`,
    [
      valueInfo(iter, 'int64', []),
      valueInfo(condIn, 'bool', []),
      valueInfo(vIn, 'float', shape),
      valueInfo(negIn, 'float', shape),
      valueInfo(sumIn, 'float', []),
    ],
    [
      valueInfo(condOut, 'bool', []),
      valueInfo(vOut, 'float', shape),
      valueInfo(negOut, 'float', shape),
      valueInfo(sumOut, 'float', []),
    ],
  )
  const trips = b.constInt64([Math.ceil(level.maxSteps / level.stepsPerIteration)], [], 'trips')
  const sum = b.add(b.reduceSum(countsInit, null, false), b.reduceSum(negativeInit, null, false))
  const [counts, negative] = b.opN('Loop', [trips, b.constBool(true), countsInit, negativeInit, sum], 3, {
    body: graph(bodyGraph),
  })
  return [counts, negative]
}

function specs(variant: DecoderVariant): readonly TensorSpec[] {
  return variant === 'A' ? DECODER_OUTPUTS_A : DECODER_OUTPUTS_B
}

export function buildDemoDecoder(variant: DecoderVariant): Uint8Array {
  const b = new GraphBuilder()
  const points = readPoints(b)
  const tolerance = b.constFloat([...COLOUR_TOLERANCES], [1, COLOUR_TOLERANCES.length, 1, 1], 'tol')
  // The tight candidate borrows the medium one's purity: its own, stricter one would reject
  // blocks of a mildly noisy object and leave all its growth to the slow fine level.
  const purity = b.constFloat(
    COLOUR_TOLERANCES.map((t) => Math.max(t, COLOUR_TOLERANCES[NEGATIVE_TOLERANCE]) * PURITY_SHARE),
    [1, COLOUR_TOLERANCES.length, 1, 1],
    'purity',
  )

  // Reference colours are read at the finest level, where a click is least likely to land on
  // a block that straddles an edge.
  const finest = LEVELS[LEVELS.length - 1]
  const fineColour = b.slice(finest.input, 1, 0, COLOUR_CHANNELS)
  const exFine = oneHot(b, points.px, finest.size)
  const eyFine = oneHot(b, points.py, finest.size)
  const perRow = b.op('MatMul', [
    b.reshape(fineColour, [COLOUR_CHANNELS, finest.size, finest.size]),
    b.op('Transpose', [exFine], { perm: ints([1, 0]) }),
  ])
  const refsT = b.reduceSum(b.mul(perRow, b.op('Transpose', [eyFine], { perm: ints([1, 0]) })), [1], false)
  const refs = b.op('Transpose', [refsT], { perm: ints([1, 0]) })
  const refsSq = b.reduceSum(b.mul(refs, refs), [1], true)

  const negTolerance = b.scalar(COLOUR_TOLERANCES[NEGATIVE_TOLERANCE])
  const negPurity = b.scalar(COLOUR_TOLERANCES[NEGATIVE_TOLERANCE] * PURITY_SHARE)
  const levels: LevelMaps[] = LEVELS.map((level) => {
    const colour = level === finest ? fineColour : b.slice(level.input, 1, 0, COLOUR_CHANNELS)
    const ex = level === finest ? exFine : oneHot(b, points.px, level.size)
    const ey = level === finest ? eyFine : oneHot(b, points.py, level.size)
    const box = boxMap(b, points, level.size)
    const spread = level.pure ? b.slice(level.input, 1, SPREAD_CHANNEL, SPREAD_CHANNEL + 1) : ''
    const near = (select: string, tol: string, pureBelow: string): string => {
      const distance = nearestColourDistance(b, colour, refs, refsSq, select, level.size)
      const close = b.toFloat(b.op('Less', [distance, tol]))
      return level.pure ? b.mul(close, b.toFloat(b.op('Less', [spread, pureBelow]))) : close
    }
    const posCount = b.reduceSum(b.mul(near(points.isPos, tolerance, purity), box), [1], true)
    const allowNeg = near(points.isNeg, negTolerance, negPurity)
    const seeds = seedMaps(b, ex, ey, points, level.size)
    return { level, posCount, allowNeg, posSeeds: seeds[0], negSeeds: seeds[1], box }
  })
  const grown = growLevels(b, levels)
  const box = levels[levels.length - 1].box

  // Back to one channel per candidate: tight = all floods, medium >= 2, loose >= 1.
  const n = COLOUR_TOLERANCES.length
  const thresholds = b.constFloat(
    Array.from({ length: n }, (_, k) => n - k - 0.5),
    [1, n, 1, 1],
    'thresholds',
  )
  const pos = b.toFloat(b.op('Greater', [grown.counts, thresholds]))

  // The previous mask is a prior: its positive area joins the region unless the negative
  // flood reaches it. The flood is widened by a pixel for this, because the prior's rim holds
  // blended edge pixels that no colour flood enters. With has_mask_input = 0 the prior is
  // multiplied away entirely.
  const size = finest.size
  const one = b.scalar(1)
  const hasMask = b.toFloat(b.op('Greater', ['has_mask_input', b.scalar(0.5)]))
  const prior = b.mul(b.mul(b.toFloat(b.op('Greater', ['mask_input', b.scalar(0)])), hasMask), box)
  const keptPrior = b.mul(prior, b.sub(one, b.maxFilter(grown.negative)))
  const region = b.reshape(b.mul(b.max(pos, keptPrior), b.sub(one, grown.negative)), [n, 1, size, size])

  const logits = b.reshape(edgeLogits(b, region, fineColour), [1, COLOUR_TOLERANCES.length, size, size])
  b.opTo('iou_predictions', 'Identity', [scores(b, region, size)])
  if (variant === 'A') {
    const up = MODEL_SIZE / size
    const full = b.op('Resize', [logits, '', b.constFloat([1, 1, up, up], [4], 'scales')], {
      mode: str('linear'),
      coordinate_transformation_mode: str('half_pixel'),
    })
    // The logits never exceed DEMO_LOGIT in magnitude, and a bilinear upsample stays within
    // its inputs' range, so upstream's clamp is a no-op here unless DEMO_LOGIT grows past it.
    if (DEMO_LOGIT > MASK_LOGIT_CLAMP) {
      b.opTo('masks', 'Clip', [full, b.scalar(-MASK_LOGIT_CLAMP), b.scalar(MASK_LOGIT_CLAMP)])
    } else {
      b.opTo('masks', 'Identity', [full])
    }
    b.opTo('low_res_masks', 'Identity', [logits])
  } else {
    b.opTo('masks', 'Identity', [logits])
  }

  const g = buildGraph(
    b,
    `demo_decoder_${variant}`,
    DECODER_INPUTS.map((t) => valueInfo(t.name, 'float', t.shape)),
    specs(variant).map((t) => valueInfo(t.name, 'float', t.shape)),
  )
  return encodeModel(g, {
    producerName: DEMO_PRODUCER,
    producerVersion: DEMO_VERSION,
    docString: `${DEMO_BANNER} Decoder, output variant ${variant}.`,
  })
}
