// Real image files and folders for the project-store tests: small PNG/JPEG/WebP/GIF/TIFF made
// by sharp, a noisy JPEG big enough to truncate meaningfully, and a valid annotation input.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { afterEach } from 'vitest'
import type { AnnotationInput } from '../../src-main/core/project/index.ts'

export function tempFolder(prefix = 'sam-project-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Undo steps for the current test, run after it (last added first), and temp folders removed
 * the same way. Call once at the top of a test file.
 */
export function cleanupAfterEach(): { cleanups: (() => void)[]; temp(prefix?: string): string } {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  })
  return {
    cleanups,
    temp(prefix) {
      const t = tempFolder(prefix)
      cleanups.push(t.cleanup)
      return t.dir
    },
  }
}

export function writeFile(root: string, rel: string, data: Buffer | string): string {
  const file = join(root, ...rel.split('/'))
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, data)
  return file
}

export type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif'

/** A flat w x h image of a colour derived from `seed`, so different seeds give different bytes. */
export async function imageBytes(
  format: Format,
  width = 40,
  height = 30,
  seed = 1,
  orientation?: number,
): Promise<Buffer> {
  let img = sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: (seed * 37) % 256, g: (seed * 91) % 256, b: (seed * 53) % 256 },
    },
  })
  img = img.toFormat(format)
  if (orientation) img = img.withMetadata({ orientation })
  return img.toBuffer()
}

/** A JPEG of random noise: about 3 bytes per pixel, so it is large and its body is entropy data. */
export async function noisyJpeg(width: number, height: number, seed = 7): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3)
  let s = seed
  for (let i = 0; i < raw.length; i++) raw[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer()
}

export function annotationInput(
  imageId: number,
  categoryId: number,
  overrides: Partial<AnnotationInput> = {},
): AnnotationInput {
  return {
    imageId,
    categoryId,
    segmentation: [[2, 2, 12, 2, 12, 9, 2, 9]],
    bbox: [2, 2, 10, 7],
    area: 70,
    score: 0.93,
    prompt: {
      points: [
        { x: 6, y: 5, label: 1 },
        { x: 1, y: 1, label: 0 },
      ],
      box: null,
    },
    modelId: 'demo',
    ...overrides,
  }
}

/** Runs a TypeScript fixture in a child Node process (tsx as an import hook: the fastest start). */
export const TSX_ARGS = ['--import', 'tsx']

/** The user a test running as root runs a child as, where file permissions must apply (root ignores them). */
export const NOBODY = 65534
const ROOT = resolve(import.meta.dirname, '..', '..')

/**
 * Why "nobody" cannot run a TypeScript fixture from this checkout, or null when it can. Found by
 * trying, the way the fixtures run: from the checkout root, tsx as an import hook, importing
 * `module` (and so everything it loads, native modules included). A checkout under a folder only
 * its owner may enter, or a node_modules others cannot read, stops it.
 */
export function whyNobodyCannotImport(module: string): string | null {
  try {
    execFileSync(process.execPath, [...TSX_ARGS, '-e', `import(${JSON.stringify(pathToFileURL(module).href)})`], {
      cwd: ROOT,
      uid: NOBODY,
      gid: NOBODY,
      env: { ...process.env, HOME: '/tmp' },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    })
    return null
  } catch (e) {
    const err = e as { stderr?: string; message: string }
    return errorLine(err.stderr ?? '') ?? err.message
  }
}

/** The line of a child's stderr that names its error (Node prints the failing source line first). */
export function errorLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((line) => line.trim())
  return lines.find((line) => /error/i.test(line)) ?? lines.find((line) => line !== '')
}
