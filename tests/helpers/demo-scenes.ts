// Synthetic test scenes for the demo model: flat-coloured shapes on a contrasting background,
// drawn as SVG and rasterised by sharp (antialiased edges, like a photo's), each with its
// truth mask (pixels at least half covered by the target shape). Also the minimal pre- and
// post-processing a test needs around the model: stretch to 1024x1024 and normalise, and
// upstream's reference mask (bilinear resize of 256x256 logits to W x H, threshold at 0).

import sharp from 'sharp'
import { LOW_RES_SIZE, MODEL_SIZE, PIXEL_MEAN, PIXEL_STD } from '../../src-main/core/segment/model-interface.ts'

export interface Scene {
  name: string
  width: number
  height: number
  /** W*H*3 bytes, RGB. */
  rgb: Buffer
  /** W*H, 1 inside the target shape. */
  truth: Uint8Array
  /** A positive click inside the target, in image pixels. */
  click: [number, number]
}

export interface SceneSpec {
  name: string
  width: number
  height: number
  background: string
  /** SVG elements drawn in the target's colour: the object to segment. */
  target: string
  targetColour: string
  /** SVG elements that are drawn but are not part of the truth (e.g. a second blob). */
  others?: string
  othersColour?: string
  click: [number, number]
}

function svg(width: number, height: number, background: string, layers: Array<[string, string]>): Buffer {
  const body = layers
    .filter(([elements]) => elements.length > 0)
    .map(([elements, fill]) => `<g fill="${fill}" fill-rule="evenodd">${elements}</g>`)
    .join('')
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
      `<rect x="0" y="0" width="${width}" height="${height}" fill="${background}"/>${body}</svg>`,
  )
}

async function rasterise(svgText: Buffer, channels: 3 | 1): Promise<Buffer> {
  let img = sharp(svgText, { density: 72 }).removeAlpha()
  if (channels === 1) img = img.greyscale()
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true })
  if (info.channels !== channels) throw new Error(`rasterised with ${info.channels} channels, expected ${channels}`)
  return data
}

/** The truth mask of some SVG elements: pixels at least half covered. */
export async function drawTruth(width: number, height: number, elements: string): Promise<Uint8Array> {
  const coverage = await rasterise(svg(width, height, '#000', [[elements, '#fff']]), 1)
  const truth = new Uint8Array(width * height)
  for (let i = 0; i < truth.length; i++) truth[i] = coverage[i] >= 128 ? 1 : 0
  return truth
}

export async function drawScene(spec: SceneSpec): Promise<Scene> {
  const { width, height } = spec
  const rgb = await rasterise(
    svg(width, height, spec.background, [
      [spec.others ?? '', spec.othersColour ?? spec.targetColour],
      [spec.target, spec.targetColour],
    ]),
    3,
  )
  const truth = await drawTruth(width, height, spec.target)
  return { name: spec.name, width, height, rgb, truth, click: spec.click }
}

export const RED = '#d23c28'
export const BLUE = '#2870be'
export const GREEN = '#2e8b3a'
export const SAND = '#e6d7b4'
export const GREY = '#505050'
export const YELLOW = '#f0c828'

export function polygon(points: Array<[number, number]>): string {
  return `<polygon points="${points.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join(' ')}"/>`
}

function rotated(cx: number, cy: number, w: number, h: number, degrees: number): Array<[number, number]> {
  const a = (degrees * Math.PI) / 180
  const corners: Array<[number, number]> = [
    [-w / 2, -h / 2],
    [w / 2, -h / 2],
    [w / 2, h / 2],
    [-w / 2, h / 2],
  ]
  return corners.map(([x, y]) => [cx + x * Math.cos(a) - y * Math.sin(a), cy + x * Math.sin(a) + y * Math.cos(a)])
}

/** The single-click scenes: one click inside the target should select exactly the target. */
export const SINGLE_CLICK_SCENES: readonly SceneSpec[] = [
  {
    name: 'circle',
    width: 1200,
    height: 900,
    background: BLUE,
    target: '<circle cx="610" cy="440" r="251.3"/>',
    targetColour: RED,
    click: [600, 430],
  },
  {
    name: 'rectangle',
    width: 3000,
    height: 2000,
    background: SAND,
    target: '<rect x="812.5" y="433.3" width="1301" height="877.6"/>',
    targetColour: GREEN,
    click: [1500, 900],
  },
  {
    name: 'rotated polygon',
    width: 1600,
    height: 1200,
    background: GREY,
    target: polygon([...rotated(800, 600, 700, 380, 23)]),
    targetColour: YELLOW,
    click: [800, 600],
  },
  {
    name: 'ring with a hole',
    width: 1000,
    height: 1000,
    background: SAND,
    target:
      '<path d="M 500 150 A 350 350 0 1 0 500 850 A 350 350 0 1 0 500 150 Z M 500 300 A 200 200 0 1 1 500 700 A 200 200 0 1 1 500 300 Z"/>',
    targetColour: BLUE,
    click: [775, 500],
  },
  {
    name: 'L shape',
    width: 1400,
    height: 1000,
    background: BLUE,
    target: polygon([
      [300, 150],
      [520, 150],
      [520, 650],
      [1100, 650],
      [1100, 850],
      [300, 850],
    ]),
    targetColour: YELLOW,
    click: [410, 400],
  },
  {
    name: 'two blobs, click one',
    width: 2000,
    height: 1200,
    background: GREY,
    target: '<circle cx="560" cy="600" r="330"/>',
    targetColour: RED,
    others: '<ellipse cx="1450" cy="560" rx="360" ry="280"/>',
    othersColour: RED,
    click: [560, 600],
  },
  {
    name: 'touching the border',
    width: 1500,
    height: 1000,
    background: SAND,
    target: '<circle cx="80" cy="120" r="420"/>',
    targetColour: GREY,
    click: [150, 150],
  },
  {
    name: '6 px bar',
    width: 500,
    height: 1500,
    background: SAND,
    target: '<rect x="247" y="150" width="6" height="1200"/>',
    targetColour: BLUE,
    click: [250, 750],
  },
]

/** Stretches an RGB image to 1024x1024 (as the app does) and normalises it for the encoder. */
export async function encoderInput(scene: Pick<Scene, 'rgb' | 'width' | 'height'>): Promise<Float32Array> {
  const resized = await sharp(scene.rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } })
    .resize(MODEL_SIZE, MODEL_SIZE, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer()
  const plane = MODEL_SIZE * MODEL_SIZE
  const out = new Float32Array(3 * plane)
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (resized[i * 3 + c] / 255 - PIXEL_MEAN[c]) / PIXEL_STD[c]
  }
  return out
}

/** Image pixel -> decoder point coordinates (1024-space). */
export function toModelPoint(scene: Pick<Scene, 'width' | 'height'>, [x, y]: [number, number]): [number, number] {
  return [(x * MODEL_SIZE) / scene.width, (y * MODEL_SIZE) / scene.height]
}

/**
 * Bilinear resize (align_corners = false, edges clamped) of one 256x256 logit map, starting at
 * `offset` in `logits`, to W x H.
 */
export function resizeLogits(logits: Float32Array, offset: number, width: number, height: number): Float32Array {
  const n = LOW_RES_SIZE
  const axis = (outSize: number): { i0: Int32Array; i1: Int32Array; t: Float32Array } => {
    const i0 = new Int32Array(outSize)
    const i1 = new Int32Array(outSize)
    const t = new Float32Array(outSize)
    for (let j = 0; j < outSize; j++) {
      const s = Math.min(Math.max(((j + 0.5) * n) / outSize - 0.5, 0), n - 1)
      i0[j] = Math.floor(s)
      i1[j] = Math.min(i0[j] + 1, n - 1)
      t[j] = s - i0[j]
    }
    return { i0, i1, t }
  }
  const xs = axis(width)
  const ys = axis(height)
  const out = new Float32Array(width * height)
  for (let y = 0; y < height; y++) {
    const r0 = offset + ys.i0[y] * n
    const r1 = offset + ys.i1[y] * n
    const ty = ys.t[y]
    for (let x = 0; x < width; x++) {
      const tx = xs.t[x]
      const top = logits[r0 + xs.i0[x]] * (1 - tx) + logits[r0 + xs.i1[x]] * tx
      const bottom = logits[r1 + xs.i0[x]] * (1 - tx) + logits[r1 + xs.i1[x]] * tx
      out[y * width + x] = top * (1 - ty) + bottom * ty
    }
  }
  return out
}

/** Upstream's mask: the logits resized to W x H, then logit > 0. */
export function referenceMask(logits: Float32Array, offset: number, width: number, height: number): Uint8Array {
  const resized = resizeLogits(logits, offset, width, height)
  const mask = new Uint8Array(resized.length)
  for (let i = 0; i < mask.length; i++) mask[i] = resized[i] > 0 ? 1 : 0
  return mask
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0
  let union = 0
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i]
    union += a[i] | b[i]
  }
  return union === 0 ? 1 : inter / union
}

export function area(mask: Uint8Array): number {
  let n = 0
  for (let i = 0; i < mask.length; i++) n += mask[i]
  return n
}
