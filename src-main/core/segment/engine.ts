// The segmentation engine: one loaded model, used by the CLI, the app and the tests.
// encode(image) → Embedding; prompt(embedding) → PromptHistory; result(state) → polygons and
// the COCO segmentation of the chosen candidate. segment() chains them for one-shot use.

import * as ort from 'onnxruntime-node'
import { UserError } from '../errors.ts'
import { ENCODER_OUTPUTS, LOW_RES_SIZE, MODEL_SIZE } from './model-interface.ts'
import { defaultModelDir, loadModel, type LoadModelOptions, type LoadedModel, type ModelInfo } from './model.ts'
import { logitsToShape } from './mask-geometry.ts'
import { preprocessImage, MAX_IMAGE_PIXELS } from './preprocess.ts'
import { Decoder, PromptHistory, type DecodedState, type Embedding } from './prompt.ts'
import { toCocoSegmentation, type ShapeGeometry } from './segmentation.ts'
import { decodePrompt, type PromptDecode } from './decode.ts'
import { segmentationToLowResLogits } from './mask-ops.ts'
import type { PromptRecord, Segmentation } from '../../../src-preload/contract/schemas.ts'
import { toSharedFloat32 } from '../shared-arrays.ts'
import { regionLowResLogits, regionShapeGeometry, type Region } from './region.ts'

// onnxruntime (1.30, POSIX builds) collects telemetry when it creates its environment, at the
// first InferenceSession of the process, and part of that runs std::regex over the process
// command line. libstdc++'s regex matcher recurses per character: from about 29,000 characters
// of command line (fewer with a smaller `ulimit -s`) it overflows the 8 MB main-thread stack
// and the process dies with SIGSEGV inside libonnxruntime, whatever the arguments are (a bare
// InferenceSession.create reproduces it). ORT_DISABLE_TELEMETRY skips that code. It must be in
// the environment before the first session is created; every process that loads a model (the
// CLI, the app, the bench) evaluates this module before that. A value the user set is kept.
process.env.ORT_DISABLE_TELEMETRY ??= '1'

export interface EngineOptions extends LoadModelOptions {
  /** Model folder; default: installed SAM 2.1 weights, else the demo model. */
  modelDir?: string
  maxPixels?: number
}

export interface PolygonOptions {
  /** Douglas–Peucker tolerance in image pixels. */
  tolerance?: number
  /** Parts and holes smaller than this many square pixels are dropped. */
  minArea?: number
}

/** One object segmented from an image: the decode's result with the time taken to obtain the embedding. */
export type SegmentResult = Omit<PromptDecode, 'timings'> & {
  timings: { preprocess: number; encode: number; decode: number; postprocess: number }
}

export interface EncodeResult {
  embedding: Embedding
  timings: { preprocess: number; encode: number }
}

export class Engine {
  private constructor(
    private readonly model: LoadedModel,
    /** True when the caller named no model and no SAM 2.1 weights are installed. */
    readonly demoFallback: boolean,
    private readonly maxPixels: number,
  ) {}

  static async open(options: EngineOptions = {}): Promise<Engine> {
    const chosen = options.modelDir ? { dir: options.modelDir, demoFallback: false } : defaultModelDir()
    const model = await loadModel(chosen.dir, options)
    // loadModel has already run the decoder once (its probe), so the first click pays no lazy initialisation.
    return new Engine(model, chosen.demoFallback, options.maxPixels ?? MAX_IMAGE_PIXELS)
  }

  get info(): ModelInfo {
    return this.model.info
  }

  /**
   * Runs the encoder on an already prepared tensor; `region`: the part of the width x height
   * image the tensor shows (null: all of it).
   */
  async encodeTensor(
    tensor: Float32Array,
    width: number,
    height: number,
    region: Region | null = null,
  ): Promise<Embedding> {
    const input = new ort.Tensor('float32', tensor, [1, 3, MODEL_SIZE, MODEL_SIZE])
    const out = await this.model.encoder.run(
      { image: input },
      ENCODER_OUTPUTS.map((o) => o.name),
    )
    const take = (name: string): Float32Array => {
      const t = out[name]
      // A session in this thread owns its output buffers only until dispose: keep a copy, in
      // shared memory like a worker's outputs, which are ours already.
      const data = toSharedFloat32(t.data as Float32Array)
      t.dispose?.()
      return data
    }
    return {
      modelId: this.info.id,
      width,
      height,
      ...(region ? { region } : {}),
      imageEmbed: take('image_embed'),
      highResFeats0: take('high_res_feats_0'),
      highResFeats1: take('high_res_feats_1'),
    }
  }

  /** Encodes the image, or only `region` of it (region.ts: small objects on large images). */
  async encode(image: string | Buffer, region: Region | null = null): Promise<EncodeResult> {
    const t0 = performance.now()
    const prepared = await preprocessImage(image, this.maxPixels, region)
    const t1 = performance.now()
    const embedding = await this.encodeTensor(prepared.tensor, prepared.width, prepared.height, region)
    const t2 = performance.now()
    return { embedding, timings: { preprocess: t1 - t0, encode: t2 - t1 } }
  }

  /**
   * The prompt history of one object. With `reprompt` (a saved annotation's segmentation, or its
   * low-resolution logits already made from it), the first click refines that mask instead of
   * starting from nothing.
   */
  prompt(embedding: Embedding, reprompt?: Segmentation | Float32Array): PromptHistory {
    if (embedding.modelId !== this.info.id) {
      throw new UserError(
        'embedding-model',
        `embedding was computed by model '${embedding.modelId}', not the loaded '${this.info.id}'`,
      )
    }
    const session = new PromptHistory(new Decoder(this.model.decoder, this.info.decoderVariant, embedding))
    if (reprompt instanceof Float32Array) session.startFrom(reprompt)
    else if (reprompt && embedding.region)
      session.startFrom(regionLowResLogits(reprompt, embedding.region, embedding.width, embedding.height))
    else if (reprompt) session.startFrom(segmentationToLowResLogits(reprompt, embedding.width, embedding.height))
    return session
  }

  /**
   * Polygons and COCO segmentation of a decoded state's chosen candidate, in the pixels of the
   * width x height image; `region`: the part of it the logits cover (null: all of it).
   */
  shapeOf(
    state: DecodedState,
    width: number,
    height: number,
    options: PolygonOptions = {},
    region: Region | null = null,
  ): ShapeGeometry {
    if (region) return regionShapeGeometry(state.logits[state.chosen], region, width, height, options)
    const shape = logitsToShape(state.logits[state.chosen], LOW_RES_SIZE, LOW_RES_SIZE, width, height, options)
    return { shape, ...toCocoSegmentation(shape, width, height) }
  }

  /**
   * One-shot: encode the image (or `region` of it), decode the prompt, return the chosen
   * candidate's geometry in full-image pixels.
   */
  async segment(
    image: string | Buffer,
    prompt: PromptRecord,
    options: PolygonOptions & { candidate?: number; region?: Region | null } = {},
  ): Promise<SegmentResult> {
    const { region = null, ...rest } = options
    const { embedding, timings } = await this.encode(image, region)
    return this.segmentEmbedding(embedding, prompt, rest, timings)
  }

  /**
   * Decodes one object from an embedding however it was obtained (encoder or cache); the
   * `timings` of obtaining it are passed through into the result.
   */
  async segmentEmbedding(
    embedding: Embedding,
    prompt: PromptRecord,
    options: PolygonOptions & { candidate?: number },
    timings: EncodeResult['timings'],
  ): Promise<SegmentResult> {
    const decoded = await decodePrompt(this, this.prompt(embedding), embedding, prompt, options)
    return { ...decoded, timings: { ...timings, ...decoded.timings } }
  }

  async close(): Promise<void> {
    await this.model.release()
  }
}
