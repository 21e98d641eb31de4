// What the embedding cache needs from a model: preprocessing and the encoder run as two steps
// (so queued work can be dropped between them), the id that goes into each Embedding, and a
// key that changes whenever the weights do.

import { join } from 'node:path'
import type { Engine } from '../segment/engine.ts'
import { preprocessImage, readImageHeader, MAX_IMAGE_PIXELS, type PreparedImage } from '../segment/preprocess.ts'
import type { Embedding } from '../segment/prompt.ts'
import type { Region } from '../segment/region.ts'
import type { ContentHasher } from './content-hash.ts'
import { MODEL_TENSOR_LENGTHS, type EntryExpectation } from './entry-file.ts'

/**
 * Bump when preprocessing changes what the encoder sees (resize filter, normalisation,
 * orientation or alpha handling): every cached embedding then misses and is recomputed.
 */
export const PREPROCESS_VERSION = 1

export interface ImageEncoder {
  /** The id written into each Embedding (the engine refuses embeddings of another model). */
  readonly modelId: string
  /** modelId plus a fingerprint of the encoder weights: part of every cache key. */
  readonly modelKey: string
  /** Values per tensor of every embedding it makes (imageEmbed, highResFeats0, highResFeats1). */
  readonly tensorLengths: readonly [number, number, number]
  /** The image's size after EXIF orientation, from its header (no pixels decoded). */
  imageSize(file: string): Promise<{ width: number; height: number }>
  /** The encoder tensor of the image, or of `region` of it (region.ts). */
  preprocess(file: string, region?: Region | null): Promise<PreparedImage>
  encode(image: PreparedImage): Promise<Embedding>
}

/**
 * What a disk cache entry for `file` must agree with, known without the entry: the cache is
 * shipped between machines and its entries' own claims are not believed.
 */
export async function expectationOf(encoder: ImageEncoder, file: string): Promise<EntryExpectation> {
  const { width, height } = await encoder.imageSize(file)
  return { modelId: encoder.modelId, width, height, lengths: encoder.tensorLengths }
}

/**
 * The model's id and the content hash of its encoder.onnx: a model folder whose weights were
 * replaced under the same id (a re-export, a fine-tune) must not serve the old features.
 */
export async function modelKeyOf(info: { id: string; dir: string }, hasher: ContentHasher): Promise<string> {
  const weights = await hasher.hash(join(info.dir, 'encoder.onnx'))
  return `${info.id}@${weights.slice(0, 16)}`
}

/** The engine as an ImageEncoder; hashing the weights is remembered by `hasher`. */
export async function engineEncoder(
  engine: Engine,
  hasher: ContentHasher,
  options: { maxPixels?: number } = {},
): Promise<ImageEncoder> {
  const maxPixels = options.maxPixels ?? MAX_IMAGE_PIXELS
  return {
    modelId: engine.info.id,
    modelKey: await modelKeyOf(engine.info, hasher),
    tensorLengths: MODEL_TENSOR_LENGTHS,
    imageSize: async (file) => {
      const { width, height } = await readImageHeader(file, maxPixels)
      return { width, height }
    },
    preprocess: (file, region = null) => preprocessImage(file, maxPixels, region),
    encode: (image) => engine.encodeTensor(image.tensor, image.width, image.height, image.region ?? null),
  }
}
