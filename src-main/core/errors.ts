// Errors the user can act on (bad file, bad value) versus internal failures.
// The CLI prints a UserError as one line and exits 1; anything else is a bug (exit 2).

/**
 * Every code the core throws, closed: main maps each one to the contract's ErrorCode in a
 * total table (ipc.ts), so a new code fails to compile until it is given a meaning there.
 */
export type UserErrorCode =
  // Arguments (CLI options, IPC values) and the values the project store checks.
  | 'bad-argument'
  | 'usage'
  | 'bad-point'
  | 'bad-box'
  | 'bad-candidate'
  | 'empty-prompt'
  | 'no-prompt'
  | 'invalid-value'
  | 'image-id'
  | 'image-status'
  | 'category-id'
  | 'category-name'
  | 'category-color'
  | 'annotation'
  | 'annotation-id'
  | 'annotation-segmentation'
  | 'annotation-bbox'
  | 'annotation-area'
  | 'annotation-score'
  | 'annotation-prompt'
  | 'annotation-rings'
  | 'no-prompted-mask'
  // Things that do not exist, or clash with what exists.
  | 'image-unknown'
  | 'image-missing'
  | 'category-unknown'
  | 'annotation-unknown'
  | 'not-recent'
  | 'no-project'
  | 'category-exists'
  | 'category-in-use'
  // Images.
  | 'image-unreadable'
  | 'image-too-large'
  | 'segmentation-size'
  | 'empty-result'
  // Models and their download.
  | 'model-config'
  | 'model-file-size'
  | 'model-garbage'
  | 'model-install'
  | 'model-interface'
  | 'model-manifest'
  | 'model-missing'
  | 'model-unknown'
  | 'embedding'
  | 'embedding-model'
  | 'archive-corrupt'
  | 'archive-missing-file'
  | 'archive-unsafe-path'
  | 'checksum-mismatch'
  | 'download-cancelled'
  | 'download-http'
  | 'download-interrupted'
  | 'download-network'
  | 'download-restart-loop'
  | 'download-size'
  | 'cache-write'
  // The project database.
  | 'project-busy'
  | 'project-corrupt'
  | 'project-folder'
  | 'project-foreign'
  | 'project-open'
  | 'project-read-only'
  | 'project-too-new'
  | 'project-wal'
  | 'disk-full'
  // Files read or written by import and export.
  | 'coco-file'
  | 'coco-invalid'
  | 'coco-json'
  | 'file-protected'
  | 'write-denied'
  | 'write-folder'
  // Work superseded or withdrawn (see CancelledError).
  | 'cancelled'

export class UserError extends Error {
  override readonly name: string = 'UserError'
  /** A short machine-readable code, e.g. 'model-interface', 'image-too-large'. */
  readonly code: UserErrorCode
  constructor(code: UserErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/**
 * Work that was superseded or withdrawn (an embedding nobody waits for any more, a decode of a
 * project that was closed meanwhile). Recognised by class everywhere (`instanceof`), never by
 * name; a UserError, so every caller that reports UserErrors reports it as one line.
 */
export class CancelledError extends UserError {
  override readonly name: string = 'CancelledError'
  constructor(message: string) {
    super('cancelled', message)
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError
}
