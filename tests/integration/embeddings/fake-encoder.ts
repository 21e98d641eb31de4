// A slow fake encoder for the tests that are about ordering and cancellation (and only those):
// each preprocess and encode waits until the test releases it, so the order of work is
// observed step by step instead of guessed from timings. Its embeddings are tiny arrays whose
// values name the image, so a result can be traced back to the file it came from.

import type { ImageEncoder } from '../../../src-main/core/embeddings/index.ts'
import type { PreparedImage } from '../../../src-main/core/segment/preprocess.ts'
import type { Embedding } from '../../../src-main/core/segment/prompt.ts'
import { basename } from 'node:path'

const NAME_LENGTH = 32

interface Gate {
  step: 'preprocess' | 'encode'
  image: string
  release: () => void
}

export class GatedEncoder implements ImageEncoder {
  readonly modelId = 'fake'
  readonly modelKey = 'fake@0000'
  /** Every tensor holds the image's name, padded with zeros to a fixed length. */
  readonly tensorLengths = [NAME_LENGTH, NAME_LENGTH, NAME_LENGTH] as const
  /** 'preprocess:a3', 'encode:a3', ... in the order they started. */
  readonly log: string[] = []
  private gates: Gate[] = []
  private waiters: (() => void)[] = []
  /** When false, steps complete at once (only the log is kept). */
  gated = true

  private async step(step: Gate['step'], file: string): Promise<void> {
    const image = basename(file)
    this.log.push(`${step}:${image}`)
    for (const w of this.waiters.splice(0)) w()
    if (!this.gated) return
    await new Promise<void>((release) => this.gates.push({ step, image, release }))
  }

  async imageSize(): Promise<{ width: number; height: number }> {
    return { width: 10, height: 10 }
  }

  async preprocess(file: string): Promise<PreparedImage> {
    await this.step('preprocess', file)
    return { width: 10, height: 10, tensor: Float32Array.from(basename(file), (c) => c.charCodeAt(0)) }
  }

  async encode(image: PreparedImage): Promise<Embedding> {
    const name = String.fromCharCode(...image.tensor)
    await this.step('encode', name)
    const code = new Float32Array(NAME_LENGTH)
    code.set(Array.from(name, (c) => c.charCodeAt(0)))
    return {
      modelId: this.modelId,
      width: 10,
      height: 10,
      imageEmbed: code,
      highResFeats0: code.slice(),
      highResFeats1: code.slice(),
    }
  }

  /** Waits until `step:image` has started (it may already have). */
  async started(entry: string): Promise<void> {
    while (!this.log.includes(entry)) await new Promise<void>((r) => this.waiters.push(r))
  }

  /** Lets the pending `step:image` finish. */
  release(entry: string): void {
    const i = this.gates.findIndex((g) => `${g.step}:${g.image}` === entry)
    if (i < 0)
      throw new Error(
        `${entry} is not waiting (waiting: ${this.gates.map((g) => `${g.step}:${g.image}`).join(', ') || 'nothing'})`,
      )
    const [gate] = this.gates.splice(i, 1)
    gate.release()
  }

  /** Releases `entry` once it starts. */
  async pass(entry: string): Promise<void> {
    await this.started(entry)
    this.release(entry)
  }

  /** Ungates everything from now on. */
  releaseAll(): void {
    this.gated = false
    for (const g of this.gates.splice(0)) g.release()
  }
}

/** The image name an embedding of the fake encoder was made from. */
export function nameOf(e: Embedding): string {
  return String.fromCharCode(...e.imageEmbed.filter((c) => c !== 0))
}
