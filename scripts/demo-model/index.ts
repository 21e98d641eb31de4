// Entry point of the demo-model generator: builds both graphs and writes the model folder the
// app and the tests load when no SAM 2.1 weights are installed.

import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildDemoDecoder, type DecoderVariant } from './decoder.ts'
import { buildDemoEncoder } from './encoder.ts'

export { buildDemoEncoder } from './encoder.ts'
export { buildDemoDecoder, COLOUR_TOLERANCES, DEMO_LOGIT, type DecoderVariant } from './decoder.ts'

/** config.json of the demo model folder. */
export const DEMO_CONFIG = {
  id: 'demo',
  name: 'Demo colour region grower (not SAM)',
  demo: true,
  interface: 'sam2.1-hiera-small-split',
  generatedBy: 'scripts/make-demo-model.ts',
} as const

export function demoConfigJson(): string {
  return `${JSON.stringify(DEMO_CONFIG, null, 2)}\n`
}

export async function writeDemoModel(dir: string, opts: { variant?: DecoderVariant } = {}): Promise<void> {
  const variant = opts.variant ?? 'A'
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'encoder.onnx'), buildDemoEncoder())
  await writeFile(join(dir, 'decoder.onnx'), buildDemoDecoder(variant))
  await writeFile(join(dir, 'config.json'), demoConfigJson())
}
