// `npm run models:fetch`: downloads the real SAM 2.1 weights named in models/manifest.json,
// checks them against the app's model interface and installs them under models/<installDir>.
// Interrupted downloads resume when the same command is run again.
//
//   npm run models:fetch -- [--model ID] [--url URL] [--dir DIR] [--manifest FILE] [--force]
//
// Exit codes: 0 installed (or already there), 1 a problem the user can act on (one line on
// stderr), 2 an internal error (stack on stderr), 130 interrupted with Ctrl+C.

import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import { UserError, isUserError } from '../src-main/core/errors.ts'
import { fetchModel, readInstallRecord, type FetchPhase, type FetchProgress } from './models-fetch/fetch.ts'
import { findModel, loadManifest } from './models-fetch/manifest.ts'
import { checkModelFolder } from '../src-main/core/segment/model.ts'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const USAGE = `Usage: npm run models:fetch -- [options]

Downloads a model listed in models/manifest.json and installs it into the models folder.

Options:
  --model ID       model id from the manifest (default: the first one)
  --url URL        download from this address instead of the manifest's (a mirror)
  --dir DIR        models folder (default: ${join(REPO_ROOT, 'models')})
  --manifest FILE  model manifest (default: <repo>/models/manifest.json)
  --force          download and replace the model even if it is installed
  -h, --help       show this help`

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?'
  const t = Math.max(0, Math.round(s))
  if (t < 60) return `${t} s`
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`
}

const PHASE_LABEL: Record<FetchPhase, string> = {
  download: 'download',
  verify: 'checksum',
  unpack: 'unpack  ',
  validate: 'validate',
  install: 'install ',
}

/** Speed over the last few seconds, so a resumed download does not count old bytes as fast. */
class RateMeter {
  private samples: { t: number; bytes: number }[] = []
  add(bytes: number, t = Date.now()): void {
    this.samples.push({ t, bytes })
    while (this.samples.length > 2 && t - this.samples[0].t > 5000) this.samples.shift()
  }
  perSecond(): number | null {
    if (this.samples.length < 2) return null
    const a = this.samples[0]
    const b = this.samples[this.samples.length - 1]
    return b.t > a.t ? ((b.bytes - a.bytes) * 1000) / (b.t - a.t) : null
  }
}

interface Reporter {
  update(p: FetchProgress): void
  /** Ends the current phase; `failed` leaves it unmarked (the error says what happened). */
  stop(failed?: boolean): void
}

/** Progress on stderr: a redrawn bar on a terminal, a line every few seconds otherwise (CI, logs). */
function createReporter(tty: boolean): Reporter {
  let phase: FetchPhase | null = null
  let phaseStart = 0
  let rate = new RateMeter()
  let last: FetchProgress | null = null
  let bar: cliProgress.SingleBar | null = null
  let lastLine = 0

  const stats = (p: FetchProgress): { text: string; fraction: number | null } => {
    const speed = rate.perSecond()
    const parts = [p.total !== null ? `${formatBytes(p.received)} / ${formatBytes(p.total)}` : formatBytes(p.received)]
    if (speed !== null && p.phase !== 'validate' && p.phase !== 'install') parts.push(`${formatBytes(speed)}/s`)
    if (speed && p.total !== null && p.received < p.total)
      parts.push(`ETA ${formatDuration((p.total - p.received) / speed)}`)
    const fraction = p.total ? Math.min(1, p.received / p.total) : null
    return { text: parts.join(' | '), fraction }
  }

  const endPhase = (failed = false): void => {
    if (phase === null || last === null) return
    const secs = (Date.now() - phaseStart) / 1000
    if (bar) {
      if (!failed)
        bar.update(last.total ?? last.received, { line: `${stats(last).text} | done in ${formatDuration(secs)}` })
      bar.stop()
      bar = null
    } else if (!failed && (phase === 'download' || phase === 'verify' || phase === 'unpack')) {
      process.stderr.write(
        `${PHASE_LABEL[phase].trim()}: done, ${formatBytes(last.received)} in ${formatDuration(secs)}\n`,
      )
    }
  }

  const startPhase = (p: FetchProgress): void => {
    endPhase()
    phase = p.phase
    phaseStart = Date.now()
    rate = new RateMeter()
    lastLine = 0
    if (p.phase === 'download' && p.received > 0) {
      process.stderr.write(`download: resuming after ${formatBytes(p.received)} already on disk\n`)
    }
    if (p.phase === 'validate') {
      process.stderr.write('validate: loading both ONNX files to check the SAM 2.1 interface (can take 10-20 s)\n')
      return
    }
    if (p.phase === 'install') return
    if (tty) {
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: (_options, params, payload: { label: string; line: string }) => {
            const width = 28
            const filled = Math.round(Math.min(1, params.progress) * width)
            const pct = `${Math.floor(params.progress * 100)}%`.padStart(4)
            return `${payload.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct} ${payload.line}`
          },
          hideCursor: true,
          clearOnComplete: false,
          fps: 8,
        },
        cliProgress.Presets.legacy,
      )
      bar.start(p.total ?? 0, p.received, { label: PHASE_LABEL[p.phase], line: '' })
    }
  }

  return {
    update(p) {
      if (p.phase !== phase) startPhase(p)
      last = p
      rate.add(p.received)
      const { text, fraction } = stats(p)
      if (bar) {
        if (p.total !== null && bar.getTotal() !== p.total) bar.setTotal(p.total)
        bar.update(p.received, { label: PHASE_LABEL[p.phase], line: text })
      } else if (p.phase === 'download' || p.phase === 'verify' || p.phase === 'unpack') {
        const now = Date.now()
        if (now - lastLine >= 5000) {
          lastLine = now
          const pct = fraction !== null ? `${Math.floor(fraction * 100)}% ` : ''
          process.stderr.write(`${PHASE_LABEL[p.phase].trim()}: ${pct}${text}\n`)
        }
      }
    },
    stop(failed = false) {
      endPhase(failed)
      phase = null
    },
  }
}

async function main(argv: string[]): Promise<number> {
  let values: { model?: string; url?: string; dir?: string; manifest?: string; force?: boolean; help?: boolean }
  try {
    values = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        url: { type: 'string' },
        dir: { type: 'string' },
        manifest: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }).values
  } catch (err) {
    throw new UserError('usage', `${(err as Error).message} (see --help)`)
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }

  const manifestFile = resolve(values.manifest ?? join(REPO_ROOT, 'models', 'manifest.json'))
  const manifest = await loadManifest(manifestFile)
  const entry = findModel(manifest, values.model, manifestFile)
  const modelsDir = resolve(values.dir ?? join(REPO_ROOT, 'models'))
  const target = join(modelsDir, entry.installDir)
  const url = values.url ?? entry.url
  if (values.url !== undefined) {
    try {
      new URL(values.url)
    } catch {
      throw new UserError('usage', `--url ${JSON.stringify(values.url)}: not a valid URL`)
    }
  }

  if (!values.force && existsSync(target)) {
    const record = await readInstallRecord(target)
    const from = record ? ` (from ${record.url}, SHA-256 ${record.sha256})` : ''
    process.stdout.write(
      `${entry.name} is already installed at ${target}${from}.\nUse --force to download it again and replace it.\n`,
    )
    return 0
  }

  process.stdout.write(`${entry.name}\n  from    ${url}\n  into    ${target}\n  license ${entry.license}\n`)

  const controller = new AbortController()
  let interrupted = false
  const onSigint = (): void => {
    interrupted = true
    controller.abort()
  }
  process.once('SIGINT', onSigint)
  const reporter = createReporter(process.stderr.isTTY === true)
  try {
    const result = await fetchModel({
      manifestEntry: entry,
      modelsDir,
      url,
      validate: async (dir) => {
        await checkModelFolder(dir)
      },
      onProgress: (p) => reporter.update(p),
      signal: controller.signal,
    })
    reporter.stop()
    process.stdout.write(`Installed ${entry.name} at ${result.dir}${result.resumed ? ' (download resumed)' : ''}.\n`)
    if (result.checksumVerified) {
      process.stdout.write(`SHA-256 verified: ${result.sha256}\n`)
    } else {
      process.stdout.write(
        `SHA-256 ${result.sha256} (${formatBytes(result.size)}) was NOT verified: the manifest pins no checksum.\n` +
          `It is recorded in ${join(result.dir, 'install.json')}; to pin it, set "archiveSha256" for "${entry.id}" in ${manifestFile}.\n`,
      )
    }
    return 0
  } catch (err) {
    reporter.stop(true)
    if (interrupted) {
      process.stderr.write(`interrupted: ${isUserError(err) ? err.message : 'cancelled'}\n`)
      return 130
    }
    throw err
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (isUserError(err)) {
      process.stderr.write(`error: ${err.message}\n`)
      process.exitCode = 1
    } else {
      process.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exitCode = 2
    }
  },
)
