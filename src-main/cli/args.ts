// Parsing and wording shared by the CLI commands: points, boxes, candidates, the model notice.

import { isUserError, UserError } from '../core/errors.ts'
import { encodingRegion, type Region } from '../core/segment/region.ts'
import type { ModelInfo } from '../core/segment/model.ts'
import { MAX_PROMPT_POINTS } from '../../src-preload/contract/limits.ts'
import type { PromptBox, PromptPoint } from '../../src-preload/contract/schemas.ts'

export interface Io {
  out: (s: string) => void
  err: (s: string) => void
}

/**
 * Longest single argument: PATH_MAX on Linux, so any real path fits, and far above any value
 * (a point, a category name). Longer is a mistake (a pasted file, a runaway script) and would
 * only come back in the error line.
 */
export const MAX_ARGUMENT_CHARS = 4096

/**
 * Longest whole command line. With its telemetry on, onnxruntime crashes the process (SIGSEGV:
 * its std::regex over the command line overflows the stack) from about 29,000 characters on an
 * 8 MB stack, fewer on a smaller one. engine.ts turns that telemetry off; this bound keeps clear
 * of the crash even where a user turned it back on. 64 points, three 4096-character paths and a
 * category name fit with room to spare.
 */
export const MAX_COMMAND_LINE_CHARS = 16_384

/** The option an argument belongs to, for naming it: `--model` for `--model DIR` or `--model=DIR`. */
function argumentName(args: readonly string[], i: number): string {
  const arg = args[i]
  if (arg.startsWith('--')) return arg.split('=')[0].slice(0, 40)
  const previous = i > 0 ? args[i - 1] : ''
  if (previous.startsWith('--') && !previous.includes('=')) return previous.slice(0, 40)
  return `argument ${i + 1}`
}

/**
 * Refuses an over-long argument or command line before anything is parsed, opened or loaded,
 * naming the option and the limit. `args` is the command line after the program name.
 */
export function checkCommandLine(args: readonly string[]): void {
  args.forEach((arg, i) => {
    if (arg.length > MAX_ARGUMENT_CHARS) {
      throw new UserError(
        'bad-argument',
        `${argumentName(args, i)}: '${arg.slice(0, 40)}...' is ${arg.length} characters; an argument may have at most ${MAX_ARGUMENT_CHARS}`,
      )
    }
  })
  // Too many points is the likely reason for a long command line: say that first.
  const points = args.filter((a) => a === '--point' || a.startsWith('--point=')).length
  if (points > MAX_PROMPT_POINTS) {
    throw new UserError(
      'bad-argument',
      `--point: given ${points} times; a prompt takes at most ${MAX_PROMPT_POINTS} points`,
    )
  }
  // Each argument counts with its separator, as the shell passes it.
  const total = args.reduce((n, a) => n + a.length + 1, 0)
  if (total > MAX_COMMAND_LINE_CHARS) {
    throw new UserError(
      'bad-argument',
      `the command line has ${args.length} arguments and ${total} characters; at most ${MAX_COMMAND_LINE_CHARS} are accepted`,
    )
  }
}

function parseNumberList(value: string, what: string, count: number[]): number[] {
  const parts = value.split(',').map((s) => s.trim())
  const nums = parts.map(Number)
  if (!count.includes(parts.length) || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) {
    throw new UserError('bad-argument', `${what} '${value}': expected ${count.join(' or ')} comma-separated numbers`)
  }
  return nums
}

export function parsePoint(value: string): PromptPoint {
  const [x, y, label = 1] = parseNumberList(value, '--point', [2, 3])
  if (label !== 0 && label !== 1) throw new UserError('bad-argument', `--point '${value}': label must be 0 or 1`)
  return { x, y, label }
}

export function parseBox(value: string): PromptBox {
  const [x0, y0, x1, y1] = parseNumberList(value, '--box', [4])
  return { x0, y0, x1, y1 }
}

/**
 * `--region x0,y0,x1,y1` (image pixels, the view) as the region the encoder runs on: padded to a
 * square and clipped to the image (region.ts); null when that is the whole image.
 */
export function parseRegion(value: string | undefined, width: number, height: number): Region | null {
  if (value === undefined) return null
  const [x0, y0, x1, y1] = parseNumberList(value, '--region', [4])
  try {
    return encodingRegion({ x0, y0, x1, y1 }, width, height)
  } catch (e) {
    if (isUserError(e))
      throw new UserError('bad-argument', `--region '${value}': ${e.message.replace(/^region \S+: /, '')}`)
    throw e
  }
}

export function parseCandidate(value: string | undefined): number | undefined {
  if (value === undefined || value === 'auto') return undefined
  if (!['0', '1', '2'].includes(value))
    throw new UserError('bad-argument', `--candidate '${value}': expected auto, 0, 1 or 2`)
  return Number(value)
}

export function parseNonNegative(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new UserError('bad-argument', `${flag} '${value}': expected a number >= 0`)
  return n
}

/** The one line that says which model runs, and plainly when it is the demo. */
export function modelLine(info: ModelInfo, demoFallback: boolean): string {
  const notice = info.demo
    ? demoFallback
      ? ' — DEMO model (a colour region grower, not SAM): no SAM 2.1 weights installed; run `npm run models:fetch`'
      : ' — DEMO model (a colour region grower, not SAM)'
    : ''
  return `model ${info.id} on ${info.provider}${notice}`
}
