// `embed <folder>`: precompute the embeddings of a project's images into its disk cache, with
// a progress bar and ETA. Interrupted (Ctrl-C) it stops after the image in progress; run
// again, it continues where it stopped.

import { parseArgs } from 'node:util'
import { UserError } from '../core/errors.ts'
import { EmbeddingCache, embeddingsDirOf } from '../core/embeddings/cache.ts'
import { engineEncoder } from '../core/embeddings/encoder.ts'
import { precomputeEmbeddings, type PrecomputeSummary } from '../core/embeddings/precompute.ts'
import { Engine } from '../core/segment/engine.ts'
import { modelLine, type Io } from './args.ts'
import { progressBar, type Progress } from './progress.ts'
import { openAndScan } from './project-commands.ts'

export const EMBED_USAGE = `  embed <folder> [--limit N] [--model DIR] [--float32] [--max-size GB] [--json]
      Precompute embeddings for the project's images (or the first N not yet cached) into
      <folder>/.sam-annotator/embeddings/, float16 unless --float32. --max-size sets the cache's
      size bound (default 2 GB) and keeps it for the app. Interrupted, run it again to continue.`

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0 || value.trim() === '')
    throw new UserError('bad-argument', `--limit '${value}': expected a whole number >= 0`)
  return n
}

function parseGigabytes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0 || value.trim() === '')
    throw new UserError('bad-argument', `--max-size '${value}': expected a size in GB > 0`)
  return Math.round(n * 1024 ** 3)
}

function describe(summary: PrecomputeSummary, dir: string): string[] {
  const lines = [
    `embeddings ${dir}`,
    `images ${summary.images}: ${summary.alreadyCached} already cached, ${summary.encoded} encoded, ${summary.failed.length} failed, ${summary.remaining} not cached`,
    `time ${(summary.ms / 1000).toFixed(1)} s${summary.encoded > 0 ? ` (${(summary.ms / summary.encoded).toFixed(0)} ms per encoded image)` : ''}`,
  ]
  if (summary.stopped === 'interrupted') lines.push('interrupted: run the same command again to continue')
  if (summary.stopped === 'cache-full')
    lines.push('stopped: the cache reached its size bound; raise it with --max-size GB')
  return lines
}

/** Returns the exit status: 0, or 130 when interrupted (Ctrl-C) before the work was done. */
export async function embedCommand(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      limit: { type: 'string' },
      model: { type: 'string' },
      float32: { type: 'boolean' },
      'max-size': { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (positionals.length !== 1) throw new UserError('bad-argument', 'embed: expected exactly one project folder')
  const limit = parseLimit(values.limit)
  const maxBytes = parseGigabytes(values['max-size'])

  const project = await openAndScan(positionals[0], io)
  const controller = new AbortController()
  const onSigint = () => {
    io.err('interrupting: finishing the image in progress (Ctrl-C again to stop at once)')
    controller.abort()
  }
  // Held in an object: the progress callback replaces it, which flow analysis cannot see.
  const shown: { bar: Progress | null } = { bar: null }
  try {
    const images = project
      .listImages({ missing: false })
      .filter((image) => image.error === null)
      .map((image) => ({ file: project.absolutePath(image), label: image.path }))
    const dir = embeddingsDirOf(project)
    const cache = new EmbeddingCache(dir, {
      memory: { maxEntries: 0 },
      disk: { dtype: values.float32 ? 'float32' : 'float16' },
    })
    if (maxBytes !== undefined) (cache.disk as NonNullable<typeof cache.disk>).setMaxBytes(maxBytes, { persist: true })
    // A shipped cache may hold entries that disagree with the images, are damaged, or are not
    // entry files at all: each is a miss and one warning line, never the end of the run.
    cache.onDiskEvent((event) => {
      if (event.type !== 'evicted') io.err(`warning: ${event.file}: ${event.reason}`)
    })
    const engine = await Engine.open({ modelDir: values.model })
    try {
      if (!values.json || engine.info.demo) io.err(modelLine(engine.info, engine.demoFallback))
      const encoder = await engineEncoder(engine, cache.hasher)
      process.once('SIGINT', onSigint)
      let phase = ''
      const summary = await precomputeEmbeddings(images, cache, encoder, {
        limit,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase !== phase) {
            shown.bar?.stop()
            phase = p.phase
            shown.bar = progressBar(p.phase === 'checking' ? 'checking cache' : 'embedding')
          }
          shown.bar?.update(p.done, p.total)
        },
      })
      shown.bar?.stop()
      shown.bar = null
      for (const f of summary.failed) io.err(`${f.image}: ${f.error}`)
      if (values.json) {
        io.out(
          JSON.stringify({
            folder: project.folder,
            embeddings: dir,
            model: engine.info.id,
            dtype: cache.disk?.dtype,
            ...summary,
          }),
        )
      } else {
        for (const line of describe(summary, dir)) io.out(line)
      }
      return summary.stopped === 'interrupted' ? 130 : 0
    } finally {
      await engine.close()
    }
  } finally {
    process.removeListener('SIGINT', onSigint)
    shown.bar?.stop()
    project.close()
  }
}
