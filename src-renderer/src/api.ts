// The renderer's one door to main: the typed client over the preload's `window.api`
// (results unwrapped, failures thrown as ApiError with a code). Null when the page runs
// without a bridge (a plain browser), which the app reports instead of pretending.
import { createApi } from '../../src-preload/contract/client.ts'
import type { Api } from '../../src-preload/contract/index.ts'

export function connectApi(): Api | null {
  return window.api === undefined ? null : createApi(window.api)
}

/** One line for the user from any failure. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
