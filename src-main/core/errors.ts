// Errors the user can act on (bad file, bad value) versus internal failures.
// The CLI prints a UserError as one line and exits 1; anything else is a bug (exit 2).

export class UserError extends Error {
  override readonly name = 'UserError'
  /** A short machine-readable code, e.g. 'model-interface', 'image-too-large'. */
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError
}
