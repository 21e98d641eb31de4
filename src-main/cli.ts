// The headless CLI (`npx sam-annotator ...`) over the same core the app uses.
// Exit codes: 0 success; 1 bad input (one line on stderr naming the file or value, no stack);
// 2 internal error (message plus stack for the bug report).

import { parseArgs } from 'node:util'
import { isUserError, UserError } from './core/errors.ts'
import { Engine } from './core/segment/engine.ts'
import { checkModelFolder, defaultModelDir } from './core/segment/model.ts'
import { checkPrompt, checkPromptInRegion } from './core/segment/prompt.ts'
import { readImageHeader } from './core/segment/preprocess.ts'
import {
  checkCommandLine,
  modelLine,
  parseBox,
  parseCandidate,
  parseNonNegative,
  parsePoint,
  parseRegion,
  type Io,
} from './cli/args.ts'
import { annotateCommand, openCommand } from './cli/project-commands.ts'
import { exportCommand, importCommand } from './cli/coco-commands.ts'
import { embedCommand, EMBED_USAGE } from './cli/embed-command.ts'
import { evalCommand, EVAL_USAGE } from './cli/eval-command.ts'
import { embeddingsDirForImage, openEmbeddings, segmentCached } from './core/embeddings/index.ts'

const USAGE = `Usage: sam-annotator <command> [options]

Commands:
  segment <image> --point x,y[,label] [--point ...] [--box x0,y0,x1,y1] [--region x0,y0,x1,y1]
          [--candidate auto|0|1|2] [--tolerance PX] [--min-area PX2] [--model DIR] [--json]
      Segment one object. Points are image pixels (COCO frame: pixel (0,0) covers [0,1)x[0,1));
      label 1 = on the object (default), 0 = not on it. --region: encode only that part of the
      image (padded to a square, clipped to the image), as the app does when zoomed in: small
      objects on large images; points and box must lie inside it.
  open <folder> [--json]
      Create or open the folder as a project, rescan it, print a summary (images, missing,
      unreadable, annotations per category). The database is <folder>/.sam-annotator/.
  annotate <folder> --image <relpath> --category <name> --point x,y[,label] ... [--box ...]
           [--region x0,y0,x1,y1] [--candidate auto|0|1|2] [--model DIR] [--json]
      Segment one object and save it as an annotation (the category is created if new).
${EMBED_USAGE}
  export <folder> --coco <out.json> [--segmentation auto|polygon|rle] [--json]
  export <folder> --yolo <dir> [--json]
      COCO instance segmentation (polygons; RLE for objects with holes unless polygon is asked
      for), or Ultralytics YOLO segmentation labels plus data.yaml. Written atomically.
  import <folder> --coco <in.json> [--json]
      Read COCO annotations into the project (images matched by file_name, categories merged
      by name); all or nothing.
${EVAL_USAGE}
  models check [DIR]
      Validate a model folder against the SAM 2.1 interface and print it (default: the model
      the other commands would use).

Options:
  --model DIR   encoder.onnx + decoder.onnx folder (default: models/sam2.1-hiera-small when
                installed, else the demo model)
  --json        one JSON object on stdout
  -h, --help    this help
`

async function segmentCommand(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      point: { type: 'string', multiple: true },
      box: { type: 'string' },
      region: { type: 'string' },
      candidate: { type: 'string' },
      tolerance: { type: 'string' },
      'min-area': { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (positionals.length !== 1) throw new UserError('bad-argument', 'segment: expected exactly one image path')
  const image = positionals[0]
  const points = (values.point ?? []).map(parsePoint)
  const box = values.box ? parseBox(values.box) : null
  if (points.length === 0 && !box) throw new UserError('bad-argument', 'segment: give at least one --point or a --box')
  const candidate = parseCandidate(values.candidate)
  const tolerance = parseNonNegative(values.tolerance, '--tolerance')
  const minArea = parseNonNegative(values['min-area'], '--min-area')

  // Check the image and the prompt against its size before the (slow) model load, so bad input
  // fails fast with its one line.
  const header = await readImageHeader(image)
  checkPrompt({ points, box }, header.width, header.height)
  const region = parseRegion(values.region, header.width, header.height)
  if (region) checkPromptInRegion({ points, box }, region)

  const engine = await Engine.open({ modelDir: values.model })
  // An image inside a project folder uses (and fills) that project's embedding cache.
  const cacheDir = embeddingsDirForImage(image)
  const embeddings = cacheDir ? await openEmbeddings(engine, cacheDir, { prefetch: 0 }) : null
  try {
    const result = embeddings
      ? await segmentCached(engine, embeddings, image, { points, box }, { candidate, tolerance, minArea, region })
      : {
          ...(await engine.segment(image, { points, box }, { candidate, tolerance, minArea, region })),
          embedding: 'encoder' as const,
        }
    // Notices go to stderr after the work succeeded: stdout stays one JSON object, and a
    // failure stays one line.
    if (!values.json || engine.info.demo) err(modelLine(engine.info, engine.demoFallback))
    if (!values.json) for (const a of engine.info.providerAttempts) if (!a.ok) err(`provider ${a.reason}`)
    if (values.json) {
      out(
        JSON.stringify({
          image,
          width: result.width,
          height: result.height,
          model: {
            id: engine.info.id,
            provider: engine.info.provider,
            demo: engine.info.demo,
            decoderVariant: engine.info.decoderVariant,
          },
          candidate: result.candidate,
          score: result.score,
          scores: result.scores,
          segmentation: result.segmentation,
          bbox: result.bbox,
          area: result.area,
          region: region ? [region.x0, region.y0, region.x1, region.y1] : null,
          touchesRegionBorder: result.touchesRegionBorder,
          timings: result.timings,
          embedding: result.embedding,
        }),
      )
    } else {
      const parts = result.parts
      const holes = parts.reduce((n, p) => n + p.holes.length, 0)
      const vertices = parts.reduce((n, p) => n + p.outer.length / 2 + p.holes.reduce((m, h) => m + h.length / 2, 0), 0)
      const t = result.timings
      out(`${image}: ${result.width}x${result.height}`)
      out(
        `candidate ${result.candidate} (score ${result.score.toFixed(3)}; scores ${result.scores.map((s) => s.toFixed(3)).join(', ')})`,
      )
      out(
        `${parts.length} part(s), ${holes} hole(s), ${vertices} vertices; area ${result.area} px; bbox ${result.bbox.join(',')}`,
      )
      out(`segmentation: ${Array.isArray(result.segmentation) ? 'polygons' : 'RLE (the object has holes)'}`)
      if (region) {
        const note = result.touchesRegionBorder ? ' — the mask touches its border: the object may continue outside' : ''
        out(`encoded region ${region.x0},${region.y0},${region.x1},${region.y1}${note}`)
      }
      out(
        `timings ms: preprocess ${t.preprocess.toFixed(1)}, encode ${t.encode.toFixed(1)} (embedding from ${result.embedding}), decode ${t.decode.toFixed(1)}, postprocess ${t.postprocess.toFixed(1)}`,
      )
    }
  } finally {
    await embeddings?.close()
    await engine.close()
  }
}

async function modelsCommand(args: string[], out: (s: string) => void): Promise<void> {
  const [sub, ...rest] = args
  if (sub !== 'check')
    throw new UserError('bad-argument', `models: unknown subcommand '${sub ?? ''}' (expected: check)`)
  const { positionals, values } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { json: { type: 'boolean' } },
  })
  if (positionals.length > 1) throw new UserError('bad-argument', 'models check: expected at most one folder')
  const dir = positionals[0] ?? defaultModelDir().dir
  const report = await checkModelFolder(dir)
  if (values.json) {
    out(JSON.stringify({ dir, ok: true, ...report }))
    return
  }
  out(
    `${dir}: OK — SAM 2.1 split interface, decoder variant ${report.decoderVariant}${report.demo ? ' (demo model, not SAM)' : ''}`,
  )
  out(`id: ${report.id}`)
  for (const [name, part] of [
    ['encoder.onnx', report.encoder],
    ['decoder.onnx', report.decoder],
  ] as const) {
    out(name)
    for (const t of part.inputs) out(`  in  ${t.name} ${t.type} [${t.shape.join(',')}]`)
    for (const t of part.outputs) {
      const returned = t.returned ? ` (a probe run returned [${t.returned.join(',')}])` : ''
      out(`  out ${t.name} ${t.type} [${t.shape.join(',')}]${returned}`)
    }
  }
}

export async function main(
  argv: string[],
  io: Io = {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
  },
): Promise<number> {
  const [command, ...rest] = argv
  try {
    checkCommandLine(argv)
    if (!command || command === '-h' || command === '--help' || command === 'help') {
      io.out(USAGE)
      return command ? 0 : 1
    }
    if (command === 'segment') await segmentCommand(rest, io.out, io.err)
    else if (command === 'models') await modelsCommand(rest, io.out)
    else if (command === 'open') await openCommand(rest, io)
    else if (command === 'annotate') await annotateCommand(rest, io)
    else if (command === 'export') await exportCommand(rest, io)
    else if (command === 'import') await importCommand(rest, io)
    else if (command === 'embed') return await embedCommand(rest, io)
    else if (command === 'eval') await evalCommand(rest, io)
    else throw new UserError('bad-argument', `unknown command '${command}' (see sam-annotator --help)`)
    return 0
  } catch (e) {
    if (isUserError(e)) {
      io.err(`error: ${e.message}`)
      return 1
    }
    // parseArgs reports unknown or malformed options with these codes: user errors too.
    const code = (e as { code?: string }).code
    if (
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    ) {
      io.err(`error: ${(e as Error).message.split('\n')[0]}`)
      return 1
    }
    io.err(`internal error: ${(e as Error)?.stack ?? String(e)}`)
    return 2
  }
}
