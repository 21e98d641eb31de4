// CLI: writes the demo model (encoder.onnx, decoder.onnx, config.json) that stands in for
// SAM 2.1 when no weights are installed. `npm run models:demo` regenerates models/demo; the
// unit tests check that the committed files are exactly what this script writes.
//
//   npx tsx scripts/make-demo-model.ts [--out DIR] [--variant A|B]

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { UserError } from '../src-main/core/errors.ts'
import { writeDemoModel, type DecoderVariant } from './demo-model/index.ts'

function parseVariant(value: string): DecoderVariant {
  if (value === 'A' || value === 'B') return value
  throw new UserError('bad-argument', `--variant ${value}: expected A (three outputs) or B (two outputs)`)
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'models/demo' },
      variant: { type: 'string', default: 'A' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log('usage: npx tsx scripts/make-demo-model.ts [--out DIR] [--variant A|B]')
    return
  }
  const variant = parseVariant(values.variant)
  const dir = resolve(values.out)
  await writeDemoModel(dir, { variant })
  console.log(`demo model (decoder variant ${variant}) written to ${dir}`)
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UserError || (err as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`make-demo-model: ${(err as Error).message}`)
    process.exit(1)
  }
  console.error(err)
  process.exit(2)
})
