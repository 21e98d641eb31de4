// How every IPC result crosses the bridge, and the typed error the renderer gets back.
// An envelope rather than a thrown error because contextBridge copies an Error with its message
// only (class and extra fields are lost), so a thrown `code` would never reach the renderer.
// Runtime-neutral: no Node, DOM or Electron, and no schema library (the renderer may import it).

/**
 * The closed set of failure kinds the UI can branch on. Main maps every failure to one of
 * these; the finer cause (the core's own code, e.g. 'category-exists') travels in `detail`.
 */
export const ERROR_CODES = [
  /** The arguments did not match the channel's schema, or a value was refused by the core. */
  'invalid-argument',
  /** The call did not come from our own window. */
  'forbidden',
  /** The call needs an open project and none is open. */
  'no-project',
  /** An id (image, category, annotation) or file that does not exist. */
  'not-found',
  /** The change clashes with existing data (a duplicate name, a category still in use). */
  'conflict',
  /** The image file cannot be decoded (truncated, not an image, too large). */
  'image-unreadable',
  /** No usable segmentation model, or it failed to load or run. */
  'model-unavailable',
  /** The project database cannot be opened or written (damaged, busy, read-only, disk full). */
  'project-unavailable',
  /** A file chosen for import or export cannot be read or written. */
  'file-error',
  /** The operation was superseded or cancelled. */
  'cancelled',
  /** Any other failure the user can act on; the message says what. */
  'failed',
  /** A bug: logged in main with its stack; the message is short. */
  'internal',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ErrorPayload {
  code: ErrorCode
  /** One sentence for the user, naming the value or file at fault. */
  message: string
  /** The core's own error code when there is one (e.g. 'category-exists'), for logs and tests. */
  detail?: string
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload }

/** A failed call as the renderer sees it: `instanceof ApiError`, with a `code` to branch on. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly code: ErrorCode
  readonly detail: string | undefined
  /** The channel that failed, e.g. 'annot:segment.decode'. */
  readonly channel: string

  constructor(channel: string, error: ErrorPayload) {
    super(error.message)
    this.code = error.code
    this.detail = error.detail
    this.channel = channel
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value)
}

/** The value of a result, or an ApiError; a malformed envelope is an 'internal' ApiError. */
export function unwrap<T>(channel: string, result: IpcResult<T>): T {
  if (typeof result !== 'object' || result === null) {
    throw new ApiError(channel, { code: 'internal', message: `${channel} answered with no result envelope` })
  }
  if (result.ok) return result.value
  const { error } = result
  const code = isErrorCode(error?.code) ? error.code : 'internal'
  throw new ApiError(channel, { code, message: String(error?.message ?? 'unknown error'), detail: error?.detail })
}
