// Loads a SAM 2.1 encoder/decoder pair from a model folder, checks it against the model interface
// before first use, and picks the execution provider (GPU where it works, CPU otherwise).
//
// Session options, chosen deliberately:
// - graphOptimizationLevel 'all': constant folding and fusions; the one-time cost is paid at
//   load and every encode/decode afterwards is faster.
// - intraOpNumThreads = the cores Node may use: the encoder is one big sequential graph, so
//   parallelism inside operators is what helps; interOpNumThreads 1 with executionMode
//   'sequential' avoids two thread pools fighting over 2 cores.
// - The decoder always runs on CPU (the model interface: it is small, and GPU transfers of the
//   16 MB of features per click would cost more than they save) and is warmed once, because the
//   first run() of a session is slow (lazy initialisation).

import { existsSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { UserError } from '../errors.ts'
import {
  DECODER_INPUTS,
  DECODER_OUTPUTS_A,
  DECODER_OUTPUTS_B,
  ENCODER_INPUTS,
  ENCODER_OUTPUTS,
  type TensorSpec,
} from './model-interface.ts'

export type DecoderVariant = 'A' | 'B'
export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml'

export interface ProviderAttempt {
  provider: ProviderName
  ok: boolean
  /** Why it was not used (or why it was), in words for the user. */
  reason: string
}

export interface ModelInfo {
  /** From config.json `id`, else the folder name. Part of embedding cache keys. */
  id: string
  name: string
  dir: string
  demo: boolean
  decoderVariant: DecoderVariant
  /** Provider the encoder runs on. The decoder always runs on CPU. */
  provider: ProviderName
  providerAttempts: ProviderAttempt[]
}

export interface LoadedModel {
  info: ModelInfo
  encoder: ort.InferenceSession
  decoder: ort.InferenceSession
  release(): Promise<void>
}

export interface LoadModelOptions {
  /** Providers to try for the encoder, in order; default: the platform's GPU provider, then CPU. */
  providers?: ProviderName[]
  /** Threads for CPU sessions; default: the cores Node may use. */
  threads?: number
}

const ENCODER_FILE = 'encoder.onnx'
const DECODER_FILE = 'decoder.onnx'

/** Folder of the repository's models (models/), found from this file in source or build. */
export function modelsRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'models', 'manifest.json')) || existsSync(join(dir, 'models', 'demo'))) {
      return join(dir, 'models')
    }
    dir = dirname(dir)
  }
  return resolve('models')
}

export const REAL_MODEL_DIR_NAME = 'sam2.1-hiera-small'

function hasModelFiles(dir: string): boolean {
  return existsSync(join(dir, ENCODER_FILE)) && existsSync(join(dir, DECODER_FILE))
}

/**
 * The folder used when the user names none: the installed SAM 2.1 weights, else the demo
 * model. `demoFallback` says which, so callers can tell the user plainly.
 */
export function defaultModelDir(root = modelsRoot()): { dir: string; demoFallback: boolean } {
  const real = join(root, REAL_MODEL_DIR_NAME)
  if (hasModelFiles(real)) return { dir: real, demoFallback: false }
  return { dir: join(root, 'demo'), demoFallback: true }
}

interface ModelConfig {
  id?: string
  name?: string
  demo?: boolean
}

function readConfig(dir: string): ModelConfig {
  const file = join(dir, 'config.json')
  if (!existsSync(file)) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new UserError('model-config', `${file}: not valid JSON (${(err as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UserError('model-config', `${file}: expected a JSON object`)
  }
  const c = parsed as Record<string, unknown>
  return {
    id: typeof c.id === 'string' && c.id ? c.id : undefined,
    name: typeof c.name === 'string' ? c.name : undefined,
    demo: c.demo === true,
  }
}

function requireFile(dir: string, name: string): string {
  const file = join(dir, name)
  if (!existsSync(dir)) throw new UserError('model-missing', `${dir}: model folder not found`)
  if (!statSync(dir).isDirectory()) {
    throw new UserError(
      'model-missing',
      `${dir}: is a file, not a model folder (a model folder holds ${ENCODER_FILE} and ${DECODER_FILE})`,
    )
  }
  if (!existsSync(file)) {
    throw new UserError('model-missing', `${file}: missing (a model folder holds ${ENCODER_FILE} and ${DECODER_FILE})`)
  }
  const st = statSync(file)
  if (!st.isFile() || st.size === 0) throw new UserError('model-garbage', `${file}: empty or not a file`)
  return file
}

function describeShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(',')}]`
}

/**
 * Checks a session's inputs or outputs against the model interface: names, dtype, rank and every
 * fixed dimension. Symbolic dimensions in the model interface (N) accept anything.
 */
function checkValues(
  file: string,
  kind: 'input' | 'output',
  actual: readonly ort.InferenceSession.ValueMetadata[],
  expected: readonly TensorSpec[],
): void {
  const byName = new Map(actual.map((m) => [m.name, m]))
  for (const spec of expected) {
    const meta = byName.get(spec.name)
    const want = `${spec.type} ${describeShape(spec.shape)}`
    if (!meta) {
      throw new UserError(
        'model-interface',
        `${file}: missing ${kind} '${spec.name}' (expected ${want}); it has ${actual.map((m) => `'${m.name}'`).join(', ') || 'none'}`,
      )
    }
    if (!meta.isTensor)
      throw new UserError('model-interface', `${file}: ${kind} '${spec.name}' is not a tensor (expected ${want})`)
    if (meta.type !== spec.type) {
      throw new UserError('model-interface', `${file}: ${kind} '${spec.name}' has type ${meta.type}, expected ${want}`)
    }
    // An empty shape means the model declares none; the first run would then fail with an
    // opaque error, so refuse it here.
    if (meta.shape.length !== spec.shape.length) {
      throw new UserError(
        'model-interface',
        `${file}: ${kind} '${spec.name}' has shape ${describeShape(meta.shape)} (rank ${meta.shape.length}), expected ${want}`,
      )
    }
    spec.shape.forEach((dim, i) => {
      const got = meta.shape[i]
      if (typeof dim === 'number' && got !== dim) {
        throw new UserError(
          'model-interface',
          `${file}: ${kind} '${spec.name}' has shape ${describeShape(meta.shape)}, expected ${want} (dimension ${i} must be ${dim})`,
        )
      }
    })
  }
  const extra = actual.filter((m) => !expected.some((s) => s.name === m.name))
  if (kind === 'input' && extra.length > 0) {
    throw new UserError(
      'model-interface',
      `${file}: unexpected input${extra.length > 1 ? 's' : ''} ${extra.map((m) => `'${m.name}'`).join(', ')} (not the SAM 2.1 split interface; exports with e.g. 'orig_im_size' are not supported)`,
    )
  }
}

/** Which decoder export this is, from its outputs (see the model interface: A has low_res_masks). */
export function detectDecoderVariant(
  file: string,
  outputs: readonly ort.InferenceSession.ValueMetadata[],
): DecoderVariant {
  const names = outputs.map((o) => o.name)
  if (names.includes('low_res_masks')) {
    checkValues(file, 'output', outputs, DECODER_OUTPUTS_A)
    return 'A'
  }
  checkValues(file, 'output', outputs, DECODER_OUTPUTS_B)
  return 'B'
}

function cpuOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    logSeverityLevel: 3,
  }
}

async function createSession(
  file: string,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file, options)
  } catch (err) {
    const msg = (err as Error).message?.split('\n')[0] ?? String(err)
    throw new UserError('model-garbage', `${file}: cannot be loaded as an ONNX model (${msg})`, { cause: err })
  }
}

/** The platform's GPU provider, if it has one onnxruntime-node can use. */
export function platformGpuProvider(platform = process.platform, arch = process.arch): ProviderName | null {
  if (platform === 'linux' && arch === 'x64') return 'cuda'
  if (platform === 'win32') return 'dml'
  if (platform === 'darwin') return 'coreml'
  return null
}

/** Why a GPU provider cannot even be tried here, or null if it can. */
function providerUnavailableReason(provider: ProviderName): string | null {
  if (provider === 'cpu') return null
  const backends = ort.listSupportedBackends?.() ?? []
  const known = backends.find((b) => b.name === provider)
  if (!known) return `${provider}: not in this onnxruntime-node build`
  if (provider === 'cuda' && !known.bundled) {
    // onnxruntime-node ships the CUDA provider as an optional download next to its binding.
    const require = createRequire(import.meta.url)
    const bindingDir = join(
      dirname(require.resolve('onnxruntime-node/package.json')),
      'bin',
      'napi-v6',
      process.platform,
      process.arch,
    )
    if (!existsSync(join(bindingDir, 'libonnxruntime_providers_cuda.so'))) {
      return 'cuda: provider libraries not installed (npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12; see README)'
    }
  }
  return null
}

/**
 * Checks a model folder against the model interface without keeping it loaded: both files present,
 * loadable, and with the exact SAM 2.1 interface. Throws UserError naming the file and tensor.
 */
export async function checkModelFolder(dir: string): Promise<{
  id: string
  demo: boolean
  decoderVariant: DecoderVariant
  encoder: { inputs: TensorDescription[]; outputs: TensorDescription[] }
  decoder: { inputs: TensorDescription[]; outputs: TensorDescription[] }
}> {
  const model = await loadModel(dir, { providers: ['cpu'], threads: 1 })
  try {
    const describe = (m: readonly ort.InferenceSession.ValueMetadata[]): TensorDescription[] =>
      m.map((v) =>
        v.isTensor
          ? { name: v.name, type: v.type, shape: [...v.shape] }
          : { name: v.name, type: 'non-tensor', shape: [] },
      )
    return {
      id: model.info.id,
      demo: model.info.demo,
      decoderVariant: model.info.decoderVariant,
      encoder: { inputs: describe(model.encoder.inputMetadata), outputs: describe(model.encoder.outputMetadata) },
      decoder: { inputs: describe(model.decoder.inputMetadata), outputs: describe(model.decoder.outputMetadata) },
    }
  } finally {
    await model.release()
  }
}

export interface TensorDescription {
  name: string
  type: string
  shape: (number | string)[]
}

/**
 * Loads and checks the encoder and decoder of `dir`. The encoder runs on the first provider
 * that works (tried in order, each failure recorded with its reason); the decoder on CPU.
 */
export async function loadModel(dirArg: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const dir = resolve(dirArg)
  const encoderFile = requireFile(dir, ENCODER_FILE)
  const decoderFile = requireFile(dir, DECODER_FILE)
  const config = readConfig(dir)
  const threads = Math.max(1, options.threads ?? availableParallelism())

  const gpu = platformGpuProvider()
  const providers = options.providers ?? (gpu ? [gpu, 'cpu'] : ['cpu'])
  const attempts: ProviderAttempt[] = []
  let encoder: ort.InferenceSession | null = null
  let provider: ProviderName = 'cpu'
  for (const p of providers) {
    const unavailable = providerUnavailableReason(p)
    if (unavailable) {
      attempts.push({ provider: p, ok: false, reason: unavailable })
      continue
    }
    if (p === 'cpu') {
      encoder = await createSession(encoderFile, cpuOptions(threads))
    } else {
      try {
        encoder = await ort.InferenceSession.create(encoderFile, {
          ...cpuOptions(threads),
          // CoreML rejects some Hiera shapes and DirectML some LayerNorm/Resize nodes: those
          // nodes fall back to CPU inside the same session, which is what we want.
          executionProviders: [p, 'cpu'],
        })
      } catch (err) {
        attempts.push({ provider: p, ok: false, reason: `${p}: ${(err as Error).message.split('\n')[0]}` })
        continue
      }
    }
    provider = p
    attempts.push({ provider: p, ok: true, reason: p === 'cpu' ? 'cpu: always available' : `${p}: session created` })
    break
  }
  if (!encoder) {
    // Every requested provider failed; CPU is the floor even if it was not asked for.
    encoder = await createSession(encoderFile, cpuOptions(threads))
    provider = 'cpu'
    attempts.push({ provider: 'cpu', ok: true, reason: 'cpu: fallback after the other providers failed' })
  }

  let decoder: ort.InferenceSession | null = null
  try {
    checkValues(encoderFile, 'input', encoder.inputMetadata, ENCODER_INPUTS)
    checkValues(encoderFile, 'output', encoder.outputMetadata, ENCODER_OUTPUTS)
    decoder = await createSession(decoderFile, cpuOptions(threads))
    checkValues(decoderFile, 'input', decoder.inputMetadata, DECODER_INPUTS)
    const decoderVariant = detectDecoderVariant(decoderFile, decoder.outputMetadata)
    const info: ModelInfo = {
      id: config.id ?? basename(dir),
      name: config.name ?? basename(dir),
      dir,
      demo: config.demo ?? false,
      decoderVariant,
      provider,
      providerAttempts: attempts,
    }
    const loaded: LoadedModel = {
      info,
      encoder,
      decoder,
      async release() {
        await Promise.all([encoder!.release(), decoder!.release()])
      },
    }
    return loaded
  } catch (err) {
    await encoder.release().catch(() => {})
    await decoder?.release().catch(() => {})
    throw err
  }
}
