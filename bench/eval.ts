// `npm run bench -- eval`: the click simulator (`sam-annotator eval`) on a generated set of huge
// images with small objects, with region encoding off and auto: NoC@90 and mIoU after the first
// click per category, decoder time per click, encoder time per embedding. The demo model by
// default; SAM_EVAL_MODEL=<dir> measures another (e.g. real SAM 2.1 weights).
// Sizes (environment): BENCH_EVAL_IMAGES (2), BENCH_EVAL_WIDTH x BENCH_EVAL_HEIGHT (6000x4000),
// BENCH_EVAL_CLICKS (20). With region off, tiny objects are often missed and the mask is the
// whole background: each such click runs the simulator's exact distance transform over the
// whole image, which is what bounds this section's time, not the model.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { evaluate, loadTruth, type EvalReport } from '../src-main/core/eval/evaluate.ts'
import { Engine } from '../src-main/core/segment/engine.ts'
import { smallObjectSet, writeLabelledFolder } from '../tests/helpers/small-objects.ts'

function env(name: string, fallback: number): number {
  const v = Number(process.env[name])
  return Number.isFinite(v) && v > 0 ? v : fallback
}

export async function evalSection(): Promise<void> {
  const count = env('BENCH_EVAL_IMAGES', 2)
  const width = env('BENCH_EVAL_WIDTH', 6000)
  const height = env('BENCH_EVAL_HEIGHT', 4000)
  const maxClicks = env('BENCH_EVAL_CLICKS', 20)
  const dir = mkdtempSync(join(tmpdir(), 'sam-bench-eval-'))
  try {
    const images = smallObjectSet({ count, width, height, small: 3, large: 1, seed: 17 })
    const truthFile = await writeLabelledFolder(dir, images, 'jpeg')
    const truth = await loadTruth(dir, truthFile)
    const engine = await Engine.open({ modelDir: process.env.SAM_EVAL_MODEL })
    const objects = truth.images.reduce((n, i) => n + i.objects.length, 0)
    console.log(
      `\n## eval: ${count} images ${width}x${height} (JPEG), ${objects} objects (small 6-24 px, large 5-15 % of the short side), ${maxClicks} clicks, model ${engine.info.id}\n`,
    )
    const rows: [string, EvalReport, number][] = []
    try {
      for (const region of ['off', 'auto'] as const) {
        const t0 = performance.now()
        const report = await evaluate(engine, truth, { maxClicks, region })
        rows.push([region, report, (performance.now() - t0) / 1000])
      }
    } finally {
      await engine.close()
    }
    console.log(
      '| region | objects | NoC@90 | failed@90 | mIoU@1 | small NoC@90 | small mIoU@1 | large NoC@90 | large mIoU@1 | s per click | s per encode | wall s |',
    )
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|')
    for (const [region, r, wall] of rows) {
      const s = r.perCategory.small
      const l = r.perCategory.large
      console.log(
        `| ${region} | ${r.objects} | ${r.noc['90'].toFixed(2)} | ${r.failed['90']} | ${r.miou[0].toFixed(3)} | ${s?.noc['90'].toFixed(2) ?? '-'} | ${s?.miou[0].toFixed(3) ?? '-'} | ${l?.noc['90'].toFixed(2) ?? '-'} | ${l?.miou[0].toFixed(3) ?? '-'} | ${r.secondsPerClick.toFixed(3)} | ${r.secondsPerEncode.toFixed(3)} | ${wall.toFixed(1)} |`,
      )
    }
    const [off, auto] = [rows[0][1], rows[1][1]]
    console.log(
      `\nregion auto vs off: NoC@90 ${auto.noc['90'].toFixed(2)} vs ${off.noc['90'].toFixed(2)}, mIoU@1 ${auto.miou[0].toFixed(3)} vs ${off.miou[0].toFixed(3)}\n`,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
