// Loads a SAM 2.1 encoder/decoder pair from a model folder, checks it against the model interface
// before first use, and picks the execution provider (GPU where it works, CPU otherwise).
//
// Session options, from measuring the SAM 2.1-S encoder (1024x1024 input, three runs per
// setting, one process) on the 2-core build machine while other jobs loaded it (load ~9, so
// run times spread 15-35 s and only large differences count; figures in the README):
// - graphOptimizationLevel 'all': constant folding, fusions and layout changes. 'extended'
//   ran no faster (15-23 s vs 15-17 s); its quicker session create (2.0 s vs 4.5 s) is within
//   what the file cache alone changes between runs, and a session is created once per start.
// - intraOpNumThreads = physical cores (physicalCores): parallelism inside operators is what
//   helps a sequential graph; a core's second hardware thread shares its FPU, so it is not
//   counted. On the loaded machine 1 thread was no slower than 2 (11-20 s): a busy machine
//   takes the cores away, not the threads; on an idle one the cores are there to use.
//   interOpNumThreads 1 with executionMode 'sequential' keeps to one thread pool.
// - No CPU memory arena for the encoder: with it the process held about 0.9 GB more between
//   encodes (RSS 1670 MB vs 765 MB after three runs) and ran no faster; the encoder allocates
//   large tensors once per image, not many small ones per click. The decoder keeps its arena:
//   it runs on every click with small buffers.
// - The decoder always runs on CPU (the model interface: it is small, and GPU transfers of the
//   16 MB of features per click would cost more than they save) and is run once at load, because
//   the first run() of a session is slow (lazy initialisation); that run also checks its shapes.

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
  POINT_LABEL,
  type TensorSpec,
} from './model-interface.ts'
import { plainFloat32 } from '../shared-arrays.ts'

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

/**
 * Runs one ONNX file: what the engine needs of an onnxruntime session, whether the session is
 * in this thread or in a worker thread (the app's: onnxruntime-node runs a model synchronously
 * on the calling thread, so an encode of seconds on the Electron main thread would freeze every
 * window).
 */
export interface ModelRunner {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[]
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[]
  run(feeds: Record<string, ort.Tensor>, fetches: readonly string[]): Promise<Record<string, ort.Tensor>>
  release(): Promise<void>
}

/** Creates the runner of an ONNX file; default: an onnxruntime session in this thread. */
export type RunnerFactory = (file: string, options: ort.InferenceSession.SessionOptions) => Promise<ModelRunner>

/** The feeds with shared-memory data replaced by plain copies (plainFloat32). */
export function plainFeeds(feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {}
  for (const [name, tensor] of Object.entries(feeds)) {
    const data = tensor.data
    out[name] =
      data instanceof Float32Array && data.buffer instanceof SharedArrayBuffer
        ? new ort.Tensor('float32', plainFloat32(data), tensor.dims)
        : tensor
  }
  return out
}

const localRunner: RunnerFactory = async (file, options) => {
  const session = await ort.InferenceSession.create(file, options)
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    run: (feeds, fetches) => session.run(plainFeeds(feeds), [...fetches]) as Promise<Record<string, ort.Tensor>>,
    release: () => session.release(),
  }
}

export interface LoadedModel {
  info: ModelInfo
  encoder: ModelRunner
  decoder: ModelRunner
  /**
   * Output shapes returned by the probe runs at load, by tensor name. The decoder is always
   * probed; the encoder only when it leaves a dimension open (null otherwise).
   */
  probed: { encoder: Record<string, number[]> | null; decoder: Record<string, number[]> }
  release(): Promise<void>
}

export interface LoadModelOptions {
  /** Providers to try for the encoder, in order; default: the platform's GPU provider, then CPU. */
  providers?: ProviderName[]
  /** Threads for CPU sessions; default: the physical cores Node may use (physicalCores). */
  threads?: number
  /** Where the model runs; default: onnxruntime sessions in this thread. */
  runners?: RunnerFactory
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

/** A dimension the model leaves open: named (symbolic) or unknown. */
function isOpen(dim: unknown): boolean {
  return typeof dim !== 'number' || dim < 0
}

/**
 * Checks a session's inputs or outputs against the model interface: names, dtype, rank and every
 * fixed dimension. Symbolic dimensions in the model interface (N) accept anything. A dimension
 * the model leaves open where the interface fixes one is no conflict (exports made without
 * onnx-simplifier name their output dims, e.g. `Clipmasks_dim_0`): it is returned, for a probe
 * run to settle. Only a declared fixed size that differs is refused here.
 */
function checkValues(
  file: string,
  kind: 'input' | 'output',
  actual: readonly ort.InferenceSession.ValueMetadata[],
  expected: readonly TensorSpec[],
): TensorSpec[] {
  const byName = new Map(actual.map((m) => [m.name, m]))
  const open: TensorSpec[] = []
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
    const got = `${meta.type} ${describeShape(meta.shape)}`
    if (meta.type !== spec.type) {
      throw new UserError('model-interface', `${file}: ${kind} '${spec.name}' is ${got}, expected ${want}`)
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
      const declared = meta.shape[i]
      if (typeof dim !== 'number') return
      if (isOpen(declared)) {
        if (!open.includes(spec)) open.push(spec)
      } else if (declared !== dim) {
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
  return open
}

/** Which decoder export this is, from its output names (see the model interface: A has low_res_masks). */
function decoderOutputsOf(outputs: readonly ort.InferenceSession.ValueMetadata[]): {
  variant: DecoderVariant
  specs: readonly TensorSpec[]
} {
  return outputs.some((o) => o.name === 'low_res_masks')
    ? { variant: 'A', specs: DECODER_OUTPUTS_A }
    : { variant: 'B', specs: DECODER_OUTPUTS_B }
}

/** Inputs of the model interface's shapes (N = 1), zeros but for one foreground point label. */
function probeFeeds(specs: readonly TensorSpec[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {}
  for (const spec of specs) {
    const dims = spec.shape.map((d) => (typeof d === 'number' ? d : 1))
    const data = new Float32Array(dims.reduce((n, d) => n * d, 1))
    if (spec.name === 'point_labels') data.fill(POINT_LABEL.positive)
    feeds[spec.name] = new ort.Tensor(spec.type, data, dims)
  }
  return feeds
}

/**
 * Runs `session` once on inputs of the interface's shapes and checks that every output comes back
 * with the interface's dtype and fixed dimensions: what settles the dimensions a model leaves open.
 */
async function probe(
  file: string,
  session: ModelRunner,
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
): Promise<Record<string, number[]>> {
  let results: Record<string, ort.Tensor>
  try {
    results = await session.run(
      probeFeeds(inputs),
      outputs.map((o) => o.name),
    )
  } catch (err) {
    const msg = (err as Error).message?.split('\n')[0] ?? String(err)
    throw new UserError(
      'model-interface',
      `${file}: a probe run on inputs of the SAM 2.1 interface's shapes failed (${msg})`,
      { cause: err },
    )
  }
  try {
    const declared = new Map(session.outputMetadata.map((m) => [m.name, m.isTensor ? m.shape : []]))
    const shapes: Record<string, number[]> = {}
    for (const spec of outputs) {
      const tensor = results[spec.name] as ort.Tensor
      const returned = `${tensor.type} ${describeShape(tensor.dims)}`
      const fits =
        tensor.type === spec.type &&
        tensor.dims.length === spec.shape.length &&
        spec.shape.every((d, i) => typeof d !== 'number' || tensor.dims[i] === d)
      if (!fits) {
        throw new UserError(
          'model-interface',
          `${file}: output '${spec.name}' declares shape ${describeShape(declared.get(spec.name) ?? [])} and a probe run returned ${returned}, expected ${spec.type} ${describeShape(spec.shape)}`,
        )
      }
      shapes[spec.name] = [...tensor.dims]
    }
    return shapes
  } finally {
    for (const value of Object.values(results)) (value as ort.Tensor).dispose?.()
  }
}

/**
 * Physical cores this process may use: on Linux the distinct (package, core) pairs of
 * /proc/cpuinfo, at most what Node may use (affinity, cgroup quota); elsewhere what Node may
 * use (Apple silicon has one thread per core; a Windows machine with SMT gets twice its cores,
 * which costs some speed, not correctness).
 */
export function physicalCores(): number {
  const usable = availableParallelism()
  if (process.platform !== 'linux') return usable
  try {
    const cores = new Set<string>()
    let pkg = '0'
    for (const line of readFileSync('/proc/cpuinfo', 'utf8').split('\n')) {
      const [key, value] = line.split(':').map((part) => part.trim())
      if (key === 'physical id') pkg = value
      else if (key === 'core id') cores.add(`${pkg}/${value}`)
    }
    return cores.size > 0 ? Math.min(usable, cores.size) : usable
  } catch {
    return usable
  }
}

/** The encoder's CPU options: no memory arena (see the top of this file). */
function encoderCpuOptions(threads: number): ort.InferenceSession.SessionOptions {
  return { ...cpuOptions(threads), enableCpuMemArena: false }
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
    // onnxruntime's pool threads otherwise spin after each run, waiting for the next one: right
    // after a decoder run they took the cores that mask → polygons needs, on 2 cores.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  }
}

async function createSession(
  create: RunnerFactory,
  file: string,
  options: ort.InferenceSession.SessionOptions,
): Promise<ModelRunner> {
  try {
    return await create(file, options)
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
 * loadable, with the SAM 2.1 tensor names and dtypes, and shapes that agree with it (declared, or
 * returned by a probe run where the file leaves them open). Throws UserError naming the file and tensor.
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
    const describe = (
      m: readonly ort.InferenceSession.ValueMetadata[],
      probed: Record<string, number[]> | null = null,
    ): TensorDescription[] =>
      m.map((v) => {
        if (!v.isTensor) return { name: v.name, type: 'non-tensor', shape: [] }
        const returned = v.shape.some(isOpen) ? probed?.[v.name] : undefined
        return { name: v.name, type: v.type, shape: [...v.shape], ...(returned ? { returned } : {}) }
      })
    return {
      id: model.info.id,
      demo: model.info.demo,
      decoderVariant: model.info.decoderVariant,
      encoder: {
        inputs: describe(model.encoder.inputMetadata),
        outputs: describe(model.encoder.outputMetadata, model.probed.encoder),
      },
      decoder: {
        inputs: describe(model.decoder.inputMetadata),
        outputs: describe(model.decoder.outputMetadata, model.probed.decoder),
      },
    }
  } finally {
    await model.release()
  }
}

export interface TensorDescription {
  name: string
  type: string
  /** As the file declares it: symbolic dimensions by name. */
  shape: (number | string)[]
  /** For an output that leaves dimensions open: the shape a probe run returned. */
  returned?: number[]
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
  const threads = Math.max(1, options.threads ?? physicalCores())

  const gpu = platformGpuProvider()
  const providers = options.providers ?? (gpu ? [gpu, 'cpu'] : ['cpu'])
  const attempts: ProviderAttempt[] = []
  const create = options.runners ?? localRunner
  let encoder: ModelRunner | null = null
  let provider: ProviderName = 'cpu'
  for (const p of providers) {
    const unavailable = providerUnavailableReason(p)
    if (unavailable) {
      attempts.push({ provider: p, ok: false, reason: unavailable })
      continue
    }
    if (p === 'cpu') {
      encoder = await createSession(create, encoderFile, encoderCpuOptions(threads))
    } else {
      try {
        encoder = await create(encoderFile, {
          ...encoderCpuOptions(threads),
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
    encoder = await createSession(create, encoderFile, encoderCpuOptions(threads))
    provider = 'cpu'
    attempts.push({ provider: 'cpu', ok: true, reason: 'cpu: fallback after the other providers failed' })
  }

  let decoder: ModelRunner | null = null
  try {
    const encoderOpen = [
      ...checkValues(encoderFile, 'input', encoder.inputMetadata, ENCODER_INPUTS),
      ...checkValues(encoderFile, 'output', encoder.outputMetadata, ENCODER_OUTPUTS),
    ]
    decoder = await createSession(create, decoderFile, cpuOptions(threads))
    checkValues(decoderFile, 'input', decoder.inputMetadata, DECODER_INPUTS)
    const { variant: decoderVariant, specs: decoderOutputs } = decoderOutputsOf(decoder.outputMetadata)
    checkValues(decoderFile, 'output', decoder.outputMetadata, decoderOutputs)
    // An encoder run costs seconds with real weights: probe it only when it leaves a dimension
    // open. The decoder is always run once: its first run() pays lazy initialisation, which the
    // user's first click should not, and it checks the shapes it returns on the way.
    const probed = {
      encoder: encoderOpen.length > 0 ? await probe(encoderFile, encoder, ENCODER_INPUTS, ENCODER_OUTPUTS) : null,
      decoder: await probe(decoderFile, decoder, DECODER_INPUTS, decoderOutputs),
    }
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
      probed,
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
