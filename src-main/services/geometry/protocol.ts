// Messages between the geometry pool (main) and its worker threads.
import type { UserErrorCode } from '../../core/errors.ts'

export interface TaskRequest {
  id: number
  task: string
  args: unknown[]
}

export interface TaskError {
  /** Rebuilt as UserError, RangeError (an invalid stored mask) or a plain Error. */
  kind: 'user' | 'range' | 'other'
  code: UserErrorCode | null
  message: string
  stack: string | null
}

export type TaskReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: TaskError }
