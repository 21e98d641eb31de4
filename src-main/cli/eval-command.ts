// `eval <folder> --truth coco.json`: the standard click simulator (core/eval) over a labelled
// folder, to compare models and settings by NoC@85/NoC@90 and mean IoU per click.

import { parseArgs } from 'node:util'
import { UserError } from '../core/errors.ts'
import { evaluate, loadTruth, type EvalReport, type EvalSummary, type RegionMode } from '../core/eval/evaluate.ts'
import { Engine } from '../core/segment/engine.ts'
import { modelLine, type Io } from './args.ts'
import { progressBar } from './progress.ts'

export const EVAL_USAGE = `  eval <folder> --truth <coco.json> [--max-clicks N] [--region off|auto] [--model DIR] [--json]
      Simulated clicks on every ground-truth object (polygons or RLE; crowd and box-only
      entries skipped), the standard protocol: first click at the object's interior point
      farthest from its boundary, each next one at the deepest point of the larger error
      (positive for a missed part, negative for a false one), the previous mask fed back as
      the app does. Prints NoC@85/NoC@90 (clicks to reach that IoU; N when never), failures at
      N, mean IoU after each click and seconds per click, overall and per category.
      --region auto: as if zoomed to each object: the encoder sees a square centred on its
      ground-truth box, side max(256, 3x the box's longer side), clipped to the image (the
      whole image where that square covers it). Default off; N defaults to 20.`

function parseMaxClicks(value: string | undefined): number {
  if (value === undefined) return 20
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1 || n > 100 || value.trim() === '')
    throw new UserError('bad-argument', `--max-clicks '${value}': expected a whole number from 1 to 100`)
  return n
}

function parseRegionMode(value: string | undefined): RegionMode {
  if (value === undefined || value === 'off') return 'off'
  if (value === 'auto') return 'auto'
  throw new UserError('bad-argument', `--region '${value}': expected off or auto`)
}

function summaryLine(name: string, s: EvalSummary, maxClicks: number): string {
  const miou = [1, 3, 5]
    .filter((k) => k <= maxClicks)
    .map((k) => `@${k} ${s.miou[k - 1].toFixed(3)}`)
    .join(' ')
  return `${name}: ${s.objects} objects, NoC@85 ${s.noc['85'].toFixed(2)}, NoC@90 ${s.noc['90'].toFixed(2)}, failed@${maxClicks} ${s.failed['85']}/${s.failed['90']} (85/90), mIoU${miou}`
}

function describe(report: EvalReport, maxClicks: number, mode: RegionMode): string[] {
  const lines = [summaryLine(`all (region ${mode})`, report, maxClicks)]
  for (const [name, s] of Object.entries(report.perCategory)) lines.push(summaryLine(`  ${name}`, s, maxClicks))
  lines.push(`mIoU after clicks 1..${maxClicks}: ${report.miou.map((v) => v.toFixed(3)).join(' ')}`)
  lines.push(
    `seconds per click ${report.secondsPerClick.toFixed(4)} (decoder); per encoder run ${report.secondsPerEncode.toFixed(3)}`,
  )
  if (report.skipped > 0) lines.push(`skipped ${report.skipped} entries that are not objects (crowd, box-only, empty)`)
  return lines
}

export async function evalCommand(args: string[], io: Io): Promise<void> {
  const { positionals, values } = parseArgs({
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
  if (!values.truth) throw new UserError('bad-argument', 'eval: --truth <coco.json> is required')
  const maxClicks = parseMaxClicks(values['max-clicks'])
  const region = parseRegionMode(values.region)
  // The ground truth and every image header are checked before the model loads.
  const truth = await loadTruth(positionals[0], values.truth)
  if (truth.images.length === 0) throw new UserError('bad-argument', `${values.truth}: no objects to evaluate`)
  const engine = await Engine.open({ modelDir: values.model })
  try {
    const bar = progressBar('objects')
    let report: EvalReport
    try {
      report = await evaluate(engine, truth, { maxClicks, region, onProgress: (d, t) => bar.update(d, t) })
    } finally {
      bar.stop()
    }
    if (!values.json || engine.info.demo) io.err(modelLine(engine.info, engine.demoFallback))
    if (values.json) {
      const { skipped: _skipped, ...shape } = report
      io.out(JSON.stringify(shape))
    } else {
      for (const line of describe(report, maxClicks, region)) io.out(line)
    }
  } finally {
    await engine.close()
  }
}
