// `sam-annotator eval FOLDER --truth COCO.json [--max-clicks N] [--region off] [--model DIR] [--json]`:
// clicks per object (NoC@85, NoC@90), failures at N clicks and mean IoU after each click, by the
// standard click simulator (core/eval/), overall and per category.

import { parseArgs } from 'node:util'
import { existsSync, statSync } from 'node:fs'
import { UserError } from '../core/errors.ts'
import { Engine } from '../core/segment/engine.ts'
import { evaluateFolder, type EvalSummary } from '../core/eval/evaluate.ts'
import { modelLine, type Io } from './args.ts'
import { progressBar } from './progress.ts'

export const EVAL_USAGE = `  eval <folder> --truth <coco.json> [--max-clicks N] [--region off] [--model DIR] [--json]
      Clicks the model needs per labelled object, by the standard click simulator: NoC@85 and
      NoC@90 (clicks to reach that IoU; N when never), failures at N clicks (default 20), mean
      IoU after each click, seconds per click; overall and per category. Images are matched to
      the COCO file's file_name under <folder>. --region auto (encode a region around each
      object) is not available yet.`

function line(name: string, s: EvalSummary): string {
  const at = (k: number) => (s.miou[k - 1] ?? 0).toFixed(3)
  return `${name}: ${s.objects} object(s), NoC@85 ${s.noc['85'].toFixed(2)}, NoC@90 ${s.noc['90'].toFixed(2)}, failed@85 ${s.failed['85']}, failed@90 ${s.failed['90']}, mIoU@1 ${at(1)} @5 ${at(5)} @${s.miou.length} ${at(s.miou.length)}`
}

export async function evalCommand(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      truth: { type: 'string' },
      'max-clicks': { type: 'string' },
      region: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (positionals.length !== 1) throw new UserError('bad-argument', 'eval: expected exactly one image folder')
  const folder = positionals[0]
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new UserError('bad-argument', `${folder}: not a folder`)
  if (values.truth === undefined) throw new UserError('bad-argument', 'eval: --truth <coco.json> is required')
  const maxClicks = values['max-clicks'] === undefined ? 20 : Number(values['max-clicks'])
  if (!Number.isInteger(maxClicks) || maxClicks < 1 || maxClicks > 100)
    throw new UserError(
      'bad-argument',
      `--max-clicks: expected a whole number from 1 to 100, got '${values['max-clicks']}'`,
    )
  const region = values.region ?? 'off'
  if (region !== 'off')
    throw new UserError(
      'bad-argument',
      `--region: '${region}' is not available; only 'off' (the whole image is encoded) is implemented`,
    )
  const engine = await Engine.open(values.model ? { modelDir: values.model } : {})
  try {
    if (!values.json) io.err(modelLine(engine.info, engine.demoFallback))
    const bar = values.json ? null : progressBar('eval')
    const report = await evaluateFolder(engine, folder, values.truth, {
      maxClicks,
      onProgress: (done, total) => bar?.update(done, total),
    })
    bar?.stop()
    if (values.json) {
      const { skipped: _skipped, ...json } = report
      io.out(JSON.stringify(json))
      return
    }
    io.out(line('all', report))
    io.out(`seconds per click: ${report.secondsPerClick.toFixed(3)}`)
    for (const [name, summary] of Object.entries(report.perCategory)) io.out(line(`  ${name}`, summary))
    const { crowd, boxOnly } = report.skipped
    if (crowd + boxOnly > 0) io.out(`not evaluated: ${crowd} crowd region(s), ${boxOnly} box(es) without a mask`)
  } finally {
    await engine.close()
  }
}
