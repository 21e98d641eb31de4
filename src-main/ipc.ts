// Registers one IPC handler per contract channel, from a table. Each handler checks the sender
// is our own window, parses its one argument (as `unknown`) through the channel's schema, then
// calls a plain service function and wraps the outcome in the contract's envelope. Malformed
// input stops at the schema: it never reaches the services, SQLite or ONNX.
// Electron-free: the registrar (ipcMain in the app, a fake in tests) and the sender policy
// are passed in, so tests drive these exact handlers without Electron.
import { isUserError, type UserErrorCode } from './core/errors.ts'
import { isSameOrigin } from './navigation.ts'
import {
  CONTRACT,
  INVOKE_CHANNELS,
  type Contract,
  type DomainName,
  type ErrorCode,
  type ErrorPayload,
  type IpcResult,
  type MethodName,
  type OutputOf,
  type ParsedOf,
} from '../src-preload/contract/index.ts'
import type { MethodSpec } from '../src-preload/contract/define.ts'

/** The parts of Electron's IpcMainInvokeEvent the handlers look at. */
export interface IpcEventLike {
  sender: { id: number }
  /** null when the frame is gone; `parent` is null for a main frame. */
  senderFrame: { url: string; parent: unknown } | null
}

export type IpcListener = (event: IpcEventLike, ...args: unknown[]) => Promise<IpcResult<unknown>>

/** ipcMain's handle/removeHandler, or a test's stand-in. */
export interface IpcRegistrar {
  handle(channel: string, listener: IpcListener): void
  removeHandler(channel: string): void
}

export type SenderPolicy = (event: IpcEventLike) => boolean

/** One service call per channel; TypeScript refuses a table that misses or adds a method. */
export type HandlerTable = {
  [D in DomainName]: {
    [M in MethodName<D>]: (
      input: ParsedOf<Contract[D][M]>,
    ) => Promise<OutputOf<Contract[D][M]>> | OutputOf<Contract[D][M]>
  }
}

/** Refused before any service runs: a UserError-like failure with a contract code. */
export class IpcError extends Error {
  override readonly name = 'IpcError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message)
  }
}

/**
 * The policy for the app: the call comes from the main frame of our window's web contents,
 * showing our own page. A sub-frame, another window or a navigated page is refused.
 */
export function trustedSender(options: {
  webContentsId: () => number | null
  isAppUrl: (url: string) => boolean
}): SenderPolicy {
  return (event) => {
    const expected = options.webContentsId()
    if (expected === null || event.sender.id !== expected) return false
    const frame = event.senderFrame
    if (frame === null || frame.parent !== null) return false
    return options.isAppUrl(frame.url)
  }
}

/**
 * Our page: the build's index.html as the app serves it (app://renderer/index.html), or, in
 * development only, any page of the dev server's origin. A file: URL never passes, even one
 * naming the same index.html: the app no longer loads its page from file://.
 */
export function isAppPageUrl(url: string, pages: { indexHtmlUrl: string; devServerUrl?: string }): boolean {
  if (pages.devServerUrl !== undefined) return isSameOrigin(url, pages.devServerUrl)
  const index = new URL(pages.indexHtmlUrl)
  // isSameOrigin refuses file: URLs: they have no host.
  if (!isSameOrigin(url, pages.indexHtmlUrl)) return false
  return new URL(url).pathname === index.pathname
}

/**
 * The core's UserError codes, each given one of the contract's closed set; the finer code
 * still travels in `detail`. Total: a code the core adds fails to compile until it is here.
 */
export const ERROR_CODE_OF: Record<UserErrorCode, ErrorCode> = {
  'bad-argument': 'invalid-argument',
  usage: 'invalid-argument',
  'bad-point': 'invalid-argument',
  'bad-box': 'invalid-argument',
  'bad-candidate': 'invalid-argument',
  'empty-prompt': 'invalid-argument',
  'no-prompt': 'invalid-argument',
  'invalid-value': 'invalid-argument',
  'image-id': 'invalid-argument',
  'image-status': 'invalid-argument',
  'category-id': 'invalid-argument',
  'category-name': 'invalid-argument',
  'category-color': 'invalid-argument',
  annotation: 'invalid-argument',
  'annotation-id': 'invalid-argument',
  'annotation-segmentation': 'invalid-argument',
  'annotation-bbox': 'invalid-argument',
  'annotation-area': 'invalid-argument',
  'annotation-score': 'invalid-argument',
  'annotation-prompt': 'invalid-argument',
  'annotation-rings': 'invalid-argument',
  'no-prompted-mask': 'invalid-argument',
  'image-unknown': 'not-found',
  'image-missing': 'not-found',
  'category-unknown': 'not-found',
  'annotation-unknown': 'not-found',
  'not-recent': 'not-found',
  'no-project': 'no-project',
  'category-exists': 'conflict',
  'category-in-use': 'conflict',
  'image-unreadable': 'image-unreadable',
  'image-too-large': 'image-unreadable',
  'segmentation-size': 'failed',
  'empty-result': 'failed',
  'model-config': 'model-unavailable',
  'model-file-size': 'model-unavailable',
  'model-garbage': 'model-unavailable',
  'model-install': 'model-unavailable',
  'model-interface': 'model-unavailable',
  'model-manifest': 'model-unavailable',
  'model-missing': 'model-unavailable',
  'model-unknown': 'model-unavailable',
  embedding: 'failed',
  'embedding-model': 'model-unavailable',
  'archive-corrupt': 'failed',
  'archive-missing-file': 'failed',
  'archive-unsafe-path': 'failed',
  'checksum-mismatch': 'failed',
  'download-cancelled': 'failed',
  'download-http': 'failed',
  'download-interrupted': 'failed',
  'download-network': 'failed',
  'download-restart-loop': 'failed',
  'download-size': 'failed',
  'cache-write': 'failed',
  'project-busy': 'project-unavailable',
  'project-corrupt': 'project-unavailable',
  'project-folder': 'project-unavailable',
  'project-foreign': 'project-unavailable',
  'project-open': 'project-unavailable',
  'project-read-only': 'project-unavailable',
  'project-too-new': 'project-unavailable',
  'project-wal': 'project-unavailable',
  'disk-full': 'project-unavailable',
  'coco-file': 'file-error',
  'coco-invalid': 'file-error',
  'coco-json': 'file-error',
  'file-protected': 'file-error',
  'write-denied': 'file-error',
  'write-folder': 'file-error',
  cancelled: 'cancelled',
}

export type Logger = (message: string, error: unknown) => void

/** Turns any failure into the envelope's error; bugs are logged whole and shown short. */
export function toErrorPayload(channel: string, err: unknown, log: Logger): ErrorPayload {
  if (err instanceof IpcError)
    return { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) }
  // A CancelledError is a UserError with the code 'cancelled'.
  if (isUserError(err)) return { code: ERROR_CODE_OF[err.code], message: err.message, detail: err.code }
  log(`[ipc] internal error in ${channel}`, err)
  const short = err instanceof Error ? err.message.split('\n')[0] : String(err)
  return { code: 'internal', message: `Internal error in ${channel}: ${short}` }
}

/** The first few schema issues as one line: "points.0.x: Invalid input: expected number, received NaN". */
function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join('.')
    return path === '' ? issue.message : `${path}: ${issue.message}`
  })
  return shown.join('; ') + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : '')
}

/** Checks that the handler table has exactly the contract's channels; names every difference. */
export function checkHandlerTable(
  contract: Record<string, Record<string, MethodSpec>>,
  handlers: Record<string, Record<string, unknown>>,
): string[] {
  const problems: string[] = []
  const channels = (table: Record<string, Record<string, unknown>>): Set<string> =>
    new Set(
      Object.entries(table).flatMap(([domain, methods]) =>
        Object.keys(methods).map((name) => `annot:${domain}.${name}`),
      ),
    )
  const declared = channels(contract)
  const handled = channels(handlers)
  for (const channel of declared)
    if (!handled.has(channel)) problems.push(`${channel} is declared in the contract but has no handler`)
  for (const channel of handled)
    if (!declared.has(channel)) problems.push(`${channel} has a handler but is not declared in the contract`)
  for (const [domain, methods] of Object.entries(handlers)) {
    for (const [name, fn] of Object.entries(methods)) {
      if (typeof fn !== 'function') problems.push(`annot:${domain}.${name}: the handler is not a function`)
    }
  }
  return problems
}

export interface RegisterOptions {
  registrar: IpcRegistrar
  handlers: HandlerTable
  isTrustedSender: SenderPolicy
  log?: Logger
  /** Defaults to the app's contract; tests pass a changed one to prove mismatches are refused. */
  contract?: Record<string, Record<string, MethodSpec>>
}

/**
 * Registers every channel. Throws, registering nothing, when the handler table and the
 * contract disagree. Returns the function that removes the handlers again.
 */
export function registerIpc(options: RegisterOptions): () => void {
  const contract = options.contract ?? (CONTRACT as unknown as Record<string, Record<string, MethodSpec>>)
  const handlers = options.handlers as unknown as Record<string, Record<string, (input: unknown) => unknown>>
  const log = options.log ?? ((message, error) => console.error(message, error))
  const problems = checkHandlerTable(contract, handlers)
  if (problems.length > 0) throw new Error(`IPC handler table does not match the contract:\n${problems.join('\n')}`)

  const registered: string[] = []
  for (const [domain, methods] of Object.entries(contract)) {
    for (const [name, spec] of Object.entries(methods)) {
      const channel = `annot:${domain}.${name}`
      const handler = handlers[domain][name]
      options.registrar.handle(channel, async (event, ...args): Promise<IpcResult<unknown>> => {
        try {
          if (!options.isTrustedSender(event)) {
            log(
              `[ipc] refused ${channel} from web contents ${event.sender.id} (${event.senderFrame?.url ?? 'no frame'})`,
              null,
            )
            throw new IpcError('forbidden', `${channel}: calls are accepted only from the app's own window`)
          }
          if (args.length > 1)
            throw new IpcError('invalid-argument', `${channel}: expected one argument, got ${args.length}`)
          const parsed = spec.input.safeParse(args[0])
          if (!parsed.success)
            throw new IpcError('invalid-argument', `${channel}: ${describeIssues(parsed.error.issues)}`)
          return { ok: true, value: await handler(parsed.data) }
        } catch (err) {
          return { ok: false, error: toErrorPayload(channel, err, log) }
        }
      })
      registered.push(channel)
    }
  }
  return () => {
    for (const channel of registered) options.registrar.removeHandler(channel)
  }
}

/** Every channel name, for tests and for logging what was registered. */
export const CHANNEL_NAMES: readonly string[] = INVOKE_CHANNELS.map((entry) => entry.channel)
