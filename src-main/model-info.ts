// Says which segmentation model the app would use, by looking at the models folder:
// SAM 2.1 Hiera-Small when its encoder and decoder are present, else the bundled demo.
// A stand-in until the segment engine (src-main/core/segment/) reports its active model;
// it only reads files, loads no ONNX session, and imports no Electron so tests can run it.
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { UserError } from './core/errors.ts'
import type { ModelInfo } from '../src-preload/contract/model.ts'

export const SAM_MODEL_DIR = 'sam2.1-hiera-small'
export const DEMO_MODEL_DIR = 'demo'
const MODEL_FILES = ['encoder.onnx', 'decoder.onnx'] as const

function hasModelFiles(dir: string): boolean {
  return MODEL_FILES.every((file) => existsSync(join(dir, file)))
}

/** Reads the optional `id` and `name` strings of a model's config.json. */
function readConfig(configPath: string): { id?: string; name?: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(configPath, 'utf8'))
  } catch (err) {
    throw new UserError('model-config', `${configPath} is not readable JSON: ${(err as Error).message}`, { cause: err })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UserError('model-config', `${configPath} must hold a JSON object`)
  }
  const { id, name } = parsed as Record<string, unknown>
  return {
    id: typeof id === 'string' && id !== '' ? id : undefined,
    name: typeof name === 'string' && name !== '' ? name : undefined,
  }
}

/**
 * The model in `modelsRoot` the app would load. SAM 2.1 wins when both of its ONNX files
 * exist (its config.json is optional: downloaded bundles vary); the demo needs its
 * config.json and both ONNX files, since the app ships them.
 * @throws UserError 'model-missing' when neither model is complete, 'model-config' when a
 *   config.json is not a JSON object.
 */
export function getModelInfo(modelsRoot: string): ModelInfo {
  const samDir = join(modelsRoot, SAM_MODEL_DIR)
  if (hasModelFiles(samDir)) {
    const configPath = join(samDir, 'config.json')
    const config = existsSync(configPath) ? readConfig(configPath) : {}
    const id = config.id ?? basename(samDir)
    return { id, name: config.name ?? id, demo: false, dir: samDir }
  }

  const demoDir = join(modelsRoot, DEMO_MODEL_DIR)
  const configPath = join(demoDir, 'config.json')
  const missing = [...MODEL_FILES, 'config.json'].filter((file) => !existsSync(join(demoDir, file)))
  if (missing.length > 0) {
    throw new UserError(
      'model-missing',
      `No usable model in ${modelsRoot}: ${samDir} lacks encoder.onnx/decoder.onnx and ` +
        `${demoDir} lacks ${missing.join(', ')} (npm run models:demo regenerates the demo)`,
    )
  }
  const config = readConfig(configPath)
  const id = config.id ?? basename(demoDir)
  return { id, name: config.name ?? id, demo: true, dir: demoDir }
}
