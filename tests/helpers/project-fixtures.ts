// Real image files and folders for the project-store tests: small PNG/JPEG/WebP/GIF/TIFF made
// by sharp, a noisy JPEG big enough to truncate meaningfully, and a valid annotation input.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import type { AnnotationInput } from '../../src-main/core/project/index.ts'

export function tempFolder(prefix = 'sam-project-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export function writeFile(root: string, rel: string, data: Buffer | string): string {
  const file = join(root, ...rel.split('/'))
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, data)
  return file
}

export type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif'

/** A flat w x h image of a colour derived from `seed`, so different seeds give different bytes. */
export async function imageBytes(format: Format, width = 40, height = 30, seed = 1, orientation?: number): Promise<Buffer> {
  let img = sharp({ create: { width, height, channels: 3, background: { r: (seed * 37) % 256, g: (seed * 91) % 256, b: (seed * 53) % 256 } } })
  img = img.toFormat(format)
  if (orientation) img = img.withMetadata({ orientation })
  return img.toBuffer()
}

/** A JPEG of random noise: about 3 bytes per pixel, so it is large and its body is entropy data. */
export async function noisyJpeg(width: number, height: number, seed = 7): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3)
  let s = seed
  for (let i = 0; i < raw.length; i++) raw[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer()
}

export function annotationInput(imageId: number, categoryId: number, overrides: Partial<AnnotationInput> = {}): AnnotationInput {
  return {
    imageId,
    categoryId,
    segmentation: [[2, 2, 12, 2, 12, 9, 2, 9]],
    bbox: [2, 2, 10, 7],
    area: 70,
    score: 0.93,
    prompt: { points: [{ x: 6, y: 5, label: 1 }, { x: 1, y: 1, label: 0 }], box: null },
    modelId: 'demo',
    ...overrides,
  }
}

/** Runs a TypeScript fixture in a child Node process (tsx as an import hook: the fastest start). */
export const TSX_ARGS = ['--import', 'tsx']
