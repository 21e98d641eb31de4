// The contract, main's handler table and the preload's bridge agree: every channel has exactly
// one handler, one schema and one preload method, and a channel added to one side only is
// caught (by registerIpc at start-up and by these tests). Also the error envelope's round trip
// into a typed ApiError in the renderer, and the closed set of error codes.
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { CancelledError, UserError, type UserErrorCode } from '../../../src-main/core/errors.ts'
import type { Engine } from '../../../src-main/core/segment/engine.ts'
import { createHandlers } from '../../../src-main/handlers.ts'
import {
  checkHandlerTable,
  ERROR_CODE_OF,
  registerIpc,
  toErrorPayload,
  type HandlerTable,
} from '../../../src-main/ipc.ts'
import { AppServices } from '../../../src-main/services/app-services.ts'
import { buildBridge } from '../../../src-preload/bridge.ts'
import { createApi } from '../../../src-preload/contract/client.ts'
import { method, result, type MethodSpec } from '../../../src-preload/contract/define.ts'
import { EVENT_NAMES, eventChannel } from '../../../src-preload/contract/events.ts'
import {
  ApiError,
  CONTRACT,
  ERROR_CODES,
  INVOKE_CHANNELS,
  type BridgeApi,
  type IpcResult,
} from '../../../src-preload/contract/index.ts'
import { appSender, FakeIpcMain, ScriptedDialogs, TRUSTED_EVENT } from './fixture.ts'

const CHANNELS = INVOKE_CHANNELS.map((entry) => entry.channel)

/** Handlers over services whose engine never loads: enough to register, nothing runs. */
function idleHandlers(): HandlerTable {
  const engine = new Promise<Engine>(() => {})
  return createHandlers(
    new AppServices({ engine, userDataDir: '/nonexistent-user-data', dialogs: new ScriptedDialogs(), emit: () => {} }),
  )
}

/** A bridge whose ipcRenderer records what it was asked. */
function recordingBridge(): { bridge: BridgeApi; invoked: { channel: string; arg: unknown }[]; subscribed: string[] } {
  const invoked: { channel: string; arg: unknown }[] = []
  const subscribed: string[] = []
  const bridge = buildBridge(
    async (channel, arg) => {
      invoked.push({ channel, arg })
      return { ok: true, value: channel }
    },
    (channel) => {
      subscribed.push(channel)
      return () => {}
    },
  )
  return { bridge, invoked, subscribed }
}

describe('contract completeness', () => {
  it("names every channel once, as annot:<domain>.<method>, covering the issue's list", () => {
    expect(new Set(CHANNELS).size).toBe(CHANNELS.length)
    for (const wanted of [
      'annot:project.open',
      'annot:project.openDialog',
      'annot:project.recent',
      'annot:images.list',
      'annot:images.get',
      'annot:images.urls',
      'annot:segment.embeddingStatus',
      'annot:segment.decode',
      'annot:annotations.save',
      'annot:annotations.update',
      'annot:annotations.delete',
      'annot:annotations.list',
      'annot:categories.list',
      'annot:categories.create',
      'annot:categories.rename',
      'annot:categories.recolor',
      'annot:categories.reorder',
      'annot:categories.delete',
      'annot:images.setStatus',
      'annot:export.coco',
      'annot:export.importCoco',
      'annot:model.info',
    ]) {
      expect(CHANNELS).toContain(wanted)
    }
  })

  it('gives every channel a zod schema for its argument', () => {
    for (const { domain, method: name } of INVOKE_CHANNELS) {
      const spec = (CONTRACT as unknown as Record<string, Record<string, MethodSpec>>)[domain][name]
      expect(spec.input, `${domain}.${name}`).toBeInstanceOf(z.ZodType)
    }
  })

  it('registers exactly one handler per channel, and removes them all again', () => {
    const ipc = new FakeIpcMain()
    const unregister = registerIpc({
      registrar: ipc,
      handlers: idleHandlers(),
      isTrustedSender: appSender,
      log: () => {},
    })
    expect([...ipc.registrations].sort()).toEqual([...CHANNELS].sort())
    unregister()
    expect(ipc.listeners.size).toBe(0)
  })

  it('builds exactly one preload method per channel, each invoking its own channel with one argument', async () => {
    const { bridge, invoked } = recordingBridge()
    const methods = Object.entries(bridge)
      .filter(([domain]) => domain !== 'events')
      .flatMap(([domain, facade]) => Object.keys(facade as object).map((name) => `annot:${domain}.${name}`))
    expect(methods.sort()).toEqual([...CHANNELS].sort())
    for (const { domain, method: name, channel } of INVOKE_CHANNELS) {
      const call = (
        bridge as unknown as Record<string, Record<string, (arg?: unknown) => Promise<IpcResult<unknown>>>>
      )[domain][name]
      await expect(call({ probe: channel })).resolves.toEqual({ ok: true, value: channel })
      expect(invoked.at(-1)).toEqual({ channel, arg: { probe: channel } })
    }
    expect(Object.isFrozen(bridge)).toBe(true)
  })

  it('lets the page subscribe to contract events only', () => {
    const { bridge, subscribed } = recordingBridge()
    for (const name of EVENT_NAMES) bridge.events.on(name, () => {})
    expect(subscribed).toEqual(EVENT_NAMES.map((name) => eventChannel(name)))
    expect(() => bridge.events.on('annot:project.open' as never, () => {})).toThrow(/unknown event/)
    expect(() => bridge.events.on('__proto__' as never, () => {})).toThrow(/unknown event/)
  })

  it('refuses a handler table with a channel the contract lacks, or without one it declares', () => {
    const handlers = idleHandlers() as unknown as Record<string, Record<string, unknown>>
    const contract = CONTRACT as unknown as Record<string, Record<string, MethodSpec>>
    expect(checkHandlerTable(contract, handlers)).toEqual([])

    // A handler added on main's side only.
    const extraHandler = { ...handlers, images: { ...handlers.images, rotate: () => null } }
    expect(checkHandlerTable(contract, extraHandler)).toEqual([
      'annot:images.rotate has a handler but is not declared in the contract',
    ])

    // A channel added to the contract (and so to the preload) only.
    const extraChannel = { ...contract, images: { ...contract.images, rotate: method(z.undefined(), result<null>()) } }
    expect(checkHandlerTable(extraChannel, handlers)).toEqual([
      'annot:images.rotate is declared in the contract but has no handler',
    ])
    const ipc = new FakeIpcMain()
    expect(() =>
      registerIpc({
        registrar: ipc,
        handlers: handlers as unknown as HandlerTable,
        isTrustedSender: appSender,
        contract: extraChannel,
      }),
    ).toThrow(/annot:images\.rotate is declared in the contract but has no handler/)
    expect(ipc.registrations).toEqual([])
    // ...and the preload would expose it, so both sides must change together.
    expect(Object.keys(CONTRACT.images)).not.toContain('rotate')
  })
})

describe('errors across the bridge', () => {
  it('maps core error codes onto the closed set, keeping the original as detail', () => {
    const expectations: Partial<Record<UserErrorCode, string>> = {
      'image-unknown': 'not-found',
      'annotation-unknown': 'not-found',
      'category-exists': 'conflict',
      'category-in-use': 'conflict',
      'image-id': 'invalid-argument',
      'category-name': 'invalid-argument',
      'annotation-segmentation': 'invalid-argument',
      'bad-point': 'invalid-argument',
      'image-unreadable': 'image-unreadable',
      'model-missing': 'model-unavailable',
      'embedding-model': 'model-unavailable',
      'project-corrupt': 'project-unavailable',
      'disk-full': 'project-unavailable',
      'coco-json': 'file-error',
      'no-project': 'no-project',
      'empty-result': 'failed',
      cancelled: 'cancelled',
    }
    for (const [core, code] of Object.entries(expectations)) {
      expect(ERROR_CODE_OF[core as UserErrorCode], core).toBe(code)
    }
    for (const code of Object.values(ERROR_CODE_OF)) expect(ERROR_CODES).toContain(code)
    expect(
      toErrorPayload('annot:x.y', new UserError('category-exists', 'a category named "car" already exists'), () => {}),
    ).toEqual({
      code: 'conflict',
      message: 'a category named "car" already exists',
      detail: 'category-exists',
    })
  })

  it('takes only the codes the core declares: an unknown one does not compile', () => {
    // @ts-expect-error 'something-new' is not a UserErrorCode: a code needs a meaning in ERROR_CODE_OF first
    const unknown = new UserError('something-new', 'a code nobody mapped')
    // @ts-expect-error the table is total over UserErrorCode and has no entry for it
    expect(ERROR_CODE_OF['something-new']).toBeUndefined()
    expect(unknown.code).toBe('something-new')
  })

  it('recognises cancellation by class, whatever its name or message', () => {
    const cancelled = new CancelledError('the project was closed during the decode')
    expect(cancelled).toBeInstanceOf(UserError)
    expect(toErrorPayload('annot:segment.decode', cancelled, () => {})).toEqual({
      code: 'cancelled',
      message: 'the project was closed during the decode',
      detail: 'cancelled',
    })
    // An error merely named like it is a bug, not a cancellation.
    const impostor = Object.assign(new Error('looks cancelled'), { name: 'CancelledError' })
    expect(toErrorPayload('annot:segment.decode', impostor, () => {}).code).toBe('internal')
  })

  it('logs a bug with its stack and sends only a short message', () => {
    const logged: unknown[] = []
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')\n    at somewhere")
    const payload = toErrorPayload('annot:segment.decode', bug, (_message, error) => logged.push(error))
    expect(payload).toEqual({
      code: 'internal',
      message: "Internal error in annot:segment.decode: Cannot read properties of undefined (reading 'x')",
    })
    expect(logged).toEqual([bug])
  })

  it('turns an error envelope into an ApiError with its code in the renderer', async () => {
    const failing = buildBridge(
      async (channel) =>
        channel === 'annot:model.info'
          ? {
              ok: false,
              error: {
                code: 'model-unavailable',
                message: '/models/demo/decoder.onnx: missing',
                detail: 'model-missing',
              },
            }
          : { ok: false, error: { code: 'not-a-code', message: 'garbled' } },
      () => () => {},
    )
    const api = createApi(failing)
    const error = await api.model.info().then(
      () => null,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      code: 'model-unavailable',
      detail: 'model-missing',
      channel: 'annot:model.info',
      message: '/models/demo/decoder.onnx: missing',
    })
    // A code outside the closed set never reaches the UI as such.
    await expect(api.categories.list()).rejects.toMatchObject({ code: 'internal', message: 'garbled' })
    const { bridge } = recordingBridge()
    await expect(createApi(bridge).images.get({ imageId: 3 })).resolves.toBe('annot:images.get')
  })

  it('crosses the real handler boundary as an envelope, never a thrown error', async () => {
    const ipc = new FakeIpcMain()
    registerIpc({ registrar: ipc, handlers: idleHandlers(), isTrustedSender: appSender, log: () => {} })
    const result = await ipc.invoke(TRUSTED_EVENT, 'annot:images.get', { imageId: 1 })
    expect(result).toEqual({
      ok: false,
      error: { code: 'no-project', message: 'no project is open: open an image folder first', detail: 'no-project' },
    })
  })
})
