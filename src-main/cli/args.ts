// Parsing and wording shared by the CLI commands: points, boxes, candidates, the model notice.

import { UserError } from '../core/errors.ts'
import type { ModelInfo } from '../core/segment/model.ts'
import type { Box, Point } from '../core/segment/prompt.ts'

export interface Io {
  out: (s: string) => void
  err: (s: string) => void
}

function parseNumberList(value: string, what: string, count: number[]): number[] {
  const parts = value.split(',').map((s) => s.trim())
  const nums = parts.map(Number)
  if (!count.includes(parts.length) || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) {
    throw new UserError('bad-argument', `${what} '${value}': expected ${count.join(' or ')} comma-separated numbers`)
  }
  return nums
}

export function parsePoint(value: string): Point {
  const [x, y, label = 1] = parseNumberList(value, '--point', [2, 3])
  if (label !== 0 && label !== 1) throw new UserError('bad-argument', `--point '${value}': label must be 0 or 1`)
  return { x, y, label }
}

export function parseBox(value: string): Box {
  const [x0, y0, x1, y1] = parseNumberList(value, '--box', [4])
  return { x0, y0, x1, y1 }
}

export function parseCandidate(value: string | undefined): number | undefined {
  if (value === undefined || value === 'auto') return undefined
  if (!['0', '1', '2'].includes(value)) throw new UserError('bad-argument', `--candidate '${value}': expected auto, 0, 1 or 2`)
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
