// Every channel with good and bad arguments, through the real handlers over a real core (a
// project in a temp folder, the demo model). Bad arguments must come back as 'invalid-argument'
// without the service being called at all; unknown ids reach the core and come back as
// 'not-found'; a call from anywhere but our own window is 'forbidden'.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../../src-main/core/segment/engine.ts'
import { INVOKE_CHANNELS, type InvokeChannel } from '../../../src-preload/contract/index.ts'
import type { ImagePage } from '../../../src-preload/contract/images.ts'
import { makeProjectFolder, openDemoEngine, startShell, TRUSTED_EVENT, type Shell } from './fixture.ts'

interface Context {
  folder: string
  square: number
  photo: number
  categoryId: number
  otherCategoryId: number
  annotationId: number
  exportFile: string
}

type Case = {
  /** Arguments that must pass the schema and succeed against the real core. */
  good: (ctx: Context) => unknown
  /** Arguments the schema must refuse. */
  bad: unknown[]
}

const NAN_IDS = [NaN, Infinity, -1, 0, 1.5, '1', '../../etc/passwd', '/etc/passwd', 2 ** 53, null, true, [1], { id: 1 }]
const idCases = (key: string, extra: Record<string, unknown> = {}): unknown[] => [
  undefined,
  null,
  '1',
  [],
  {},
  ...NAN_IDS.map((value) => ({ [key]: value, ...extra })),
  { [key]: 1, ...extra, unexpected: true },
]
const NO_ARGUMENT_BAD = [{}, 0, '', 'x', null, [], { folder: '/tmp' }]
const point = (x: number, y: number, label: 0 | 1 = 1) => ({ x, y, label })
const square = [[10, 10, 20, 10, 20, 20, 10, 20]]

// One entry per channel, in the order the good calls run (later ones rely on earlier ones).
// Typed by channel: a channel added to the contract without cases here fails to compile.
const CASES: Record<InvokeChannel, Case> = {
  'annot:project.recent': { good: () => undefined, bad: NO_ARGUMENT_BAD },
  'annot:project.openDialog': { good: () => undefined, bad: NO_ARGUMENT_BAD },
  'annot:project.current': { good: () => undefined, bad: NO_ARGUMENT_BAD },
  'annot:project.open': {
    good: (ctx) => ({ folder: ctx.folder }),
    bad: [
      undefined,
      {},
      { folder: 'relative/path' },
      { folder: '' },
      { folder: 42 },
      { folder: '/tmp/a\0b' },
      { folder: '/'.repeat(5000) },
      { folder: '/tmp', extra: 1 },
    ],
  },
  'annot:project.rescan': { good: () => undefined, bad: NO_ARGUMENT_BAD },
  'annot:model.info': { good: () => undefined, bad: NO_ARGUMENT_BAD },
  'annot:images.list': {
    good: () => ({ limit: 2, status: 'new', name: '.PNG' }),
    bad: [
      null,
      'all',
      { limit: 0 },
      { limit: 1001 },
      { limit: 1e9 },
      { after: -1 },
      { after: NaN },
      { after: '3' },
      { offset: 10 },
      { name: 7 },
      { name: 'x'.repeat(1001) },
      { limit: '10' },
      { status: 'finished' },
      { status: "new' OR 1=1 --" },
      { page: 1 },
    ],
  },
  'annot:images.get': { good: (ctx) => ({ imageId: ctx.square }), bad: idCases('imageId') },
  'annot:images.urls': { good: (ctx) => ({ imageId: ctx.square }), bad: idCases('imageId') },
  'annot:images.setStatus': {
    good: (ctx) => ({ imageId: ctx.photo, status: 'skipped' }),
    bad: [
      ...idCases('imageId', { status: 'done' }),
      { imageId: 1, status: 'DONE' },
      { imageId: 1 },
      { imageId: 1, status: null },
    ],
  },
  'annot:categories.create': {
    good: () => ({ name: 'car', color: '#AA3311' }),
    bad: [
      undefined,
      {},
      { name: '' },
      { name: 'x'.repeat(201) },
      { name: 7 },
      { name: 'car', color: 'red' },
      { name: 'car', color: '#12345' },
      { name: 'car', id: 3 },
    ],
  },
  'annot:categories.list': { good: () => undefined, bad: NO_ARGUMENT_BAD },
  'annot:categories.rename': {
    good: (ctx) => ({ categoryId: ctx.categoryId, name: 'vehicle' }),
    bad: [...idCases('categoryId', { name: 'x' }), { categoryId: 1, name: '' }, { categoryId: 1 }],
  },
  'annot:categories.recolor': {
    good: (ctx) => ({ categoryId: ctx.categoryId, color: '#00ff00' }),
    bad: [
      ...idCases('categoryId', { color: '#000000' }),
      { categoryId: 1, color: 'javascript:alert(1)' },
      { categoryId: 1, color: '#0000000' },
    ],
  },
  'annot:categories.reorder': {
    good: (ctx) => ({ categoryIds: [ctx.otherCategoryId, ctx.categoryId] }),
    bad: [
      undefined,
      { categoryIds: 'all' },
      { categoryIds: [1, '2'] },
      { categoryIds: [1, -2] },
      { categoryIds: [NaN] },
      { categoryIds: Array.from({ length: 10_001 }, (_, i) => i + 1) },
    ],
  },
  'annot:segment.setCurrent': {
    good: (ctx) => ({ imageId: ctx.square }),
    bad: [undefined, {}, { imageId: '1' }, { imageId: -3 }, { imageId: NaN }, { imageId: 'a-square.png' }],
  },
  'annot:segment.embeddingStatus': { good: (ctx) => ({ imageId: ctx.square }), bad: idCases('imageId') },
  'annot:segment.decode': {
    good: (ctx) => ({ imageId: ctx.square, points: [point(45, 30)] }),
    bad: [
      ...idCases('imageId', { points: [point(1, 1)] }),
      { imageId: 1, points: [] },
      { imageId: 1, points: [point(NaN, 3)] },
      { imageId: 1, points: [point(Infinity, 3)] },
      { imageId: 1, points: [{ x: 1, y: 1, label: 2 }] },
      { imageId: 1, points: [{ x: 1, y: 1 }] },
      { imageId: 1, points: [{ x: '1', y: 1, label: 1 }] },
      { imageId: 1, points: Array.from({ length: 65 }, () => point(1, 1)) },
      { imageId: 1, points: Array.from({ length: 100_000 }, () => point(1, 1)) },
      { imageId: 1, points: [point(1, 1)], candidate: -1 },
      { imageId: 1, points: [point(1, 1)], candidate: 1.5 },
      { imageId: 1, points: [point(1, 1)], box: { x0: 0, y0: 0, x1: NaN, y1: 4 } },
      { imageId: 1, points: [point(1, 1)], mask: [1, 2, 3] },
    ],
  },
  'annot:segment.reset': { good: () => undefined, bad: NO_ARGUMENT_BAD },
  'annot:annotations.save': {
    good: (ctx) => ({ imageId: ctx.square, categoryId: ctx.categoryId, rings: square }),
    bad: [
      ...idCases('imageId', { categoryId: 1, rings: square }),
      { imageId: 1, categoryId: 1, rings: [[1, 2, 3]] },
      { imageId: 1, categoryId: 1, rings: [[1, 2, 3, 4, 5, 6, 7]] },
      { imageId: 1, categoryId: 1, rings: [[1, 2, 3, 4, NaN, 6]] },
      { imageId: 1, categoryId: 1, rings: [] },
      { imageId: 1, categoryId: 1, rings: Array.from({ length: 6 }, () => Array.from({ length: 200_000 }, () => 1)) },
      { imageId: 1, categoryId: 1, rings: { size: [10, 10], counts: 'DROP TABLE' } },
      // Geometry and its measures are main's: a client's segmentation, bbox, area, score,
      // prompt or model is refused, whatever else comes with it.
      { imageId: 1, categoryId: 1, segmentation: square, bbox: [10, 10, 10, 10], area: 100 },
      { imageId: 1, categoryId: 1, rings: square, bbox: [0, 0, 1, 1] },
      { imageId: 1, categoryId: 1, rings: square, area: 1 },
      { imageId: 1, categoryId: 1, rings: square, score: 0.5 },
      { imageId: 1, categoryId: 1, prompted: true, prompt: { points: [point(1, 1)] } },
      { imageId: 1, categoryId: 1, rings: square, modelId: 'forged' },
      { imageId: 1, categoryId: 1, rings: square, prompted: true },
      { imageId: 1, categoryId: 1, prompted: false },
      { imageId: 1, categoryId: 1, revision: '' },
      { imageId: 1, categoryId: 1 },
      { imageId: 1, categoryId: '1', rings: square },
    ],
  },
  'annot:annotations.list': { good: (ctx) => ({ imageId: ctx.square }), bad: idCases('imageId') },
  'annot:annotations.update': {
    good: (ctx) => ({ annotationId: ctx.annotationId, categoryId: ctx.otherCategoryId }),
    bad: [
      ...idCases('annotationId', { categoryId: 1 }),
      { annotationId: 1 },
      { annotationId: 1, patch: { categoryId: 1 } },
      { annotationId: 1, id: 5 },
      { annotationId: 1, imageId: 2 },
      { annotationId: 1, area: 3 },
      { annotationId: 1, bbox: [0, 0, 1, 1] },
      { annotationId: 1, segmentation: square },
      { annotationId: 1, rings: square, prompted: true },
      { annotationId: 1, rings: square, revision: 'x' },
      { annotationId: 1, rings: [[0, 0, NaN, 0, 20, 20]] },
      null,
    ],
  },
  'annot:annotations.combine': {
    good: (ctx) => ({ annotationId: ctx.annotationId, op: 'add' }),
    bad: [
      ...idCases('annotationId', { op: 'add' }),
      { annotationId: 1, op: 'xor' },
      { annotationId: 1, segmentation: [[0, 0, 20, 0, 20, 20, 0, 20]], op: 'add' },
      { annotationId: 1 },
    ],
  },
  'annot:annotations.delete': { good: (ctx) => ({ annotationId: ctx.annotationId }), bad: idCases('annotationId') },
  'annot:categories.delete': {
    good: (ctx) => ({ categoryId: ctx.otherCategoryId, force: true }),
    bad: [...idCases('categoryId'), { categoryId: 1, force: 'yes' }],
  },
  'annot:export.coco': {
    good: () => ({ segmentation: 'polygon' }),
    bad: [{ segmentation: 'svg' }, { file: '/tmp/out.json' }, 'out.json', 1, null],
  },
  'annot:export.yolo': { good: () => undefined, bad: [...NO_ARGUMENT_BAD, { dir: '/tmp' }] },
  'annot:export.importCoco': { good: () => undefined, bad: [...NO_ARGUMENT_BAD, { file: '/etc/passwd' }] },
  'annot:project.forgetRecent': {
    good: () => ({ folder: '/nowhere/in/particular' }),
    bad: [undefined, { folder: 'x' }, { folder: 3 }],
  },
  'annot:project.close': { good: () => undefined, bad: NO_ARGUMENT_BAD },
}

describe('every channel, good and bad arguments', () => {
  let engine: Promise<Engine>
  let shell: Shell
  const calls = new Map<string, number>()
  let folder = ''

  beforeAll(async () => {
    engine = openDemoEngine()
    folder = (await makeProjectFolder()).dir
    shell = startShell(engine, {
      wrap: (channel, call) => {
        calls.set(channel, (calls.get(channel) ?? 0) + 1)
        return call()
      },
    })
  })
  afterAll(async () => {
    await shell.dispose()
    await (await engine).close()
    rmSync(folder, { recursive: true, force: true })
  })

  it('has cases for exactly the contract channels', () => {
    expect(Object.keys(CASES).sort()).toEqual(INVOKE_CHANNELS.map((entry) => entry.channel).sort())
  })

  it('refuses every bad argument before the service runs', async () => {
    let refused = 0
    for (const [channel, { bad }] of Object.entries(CASES)) {
      for (const arg of bad) {
        const result = await shell.invoke(channel, arg)
        expect(result.ok, `${channel} accepted ${JSON.stringify(arg)?.slice(0, 120)}`).toBe(false)
        if (!result.ok)
          expect(result.error.code, `${channel} ${JSON.stringify(arg)?.slice(0, 120)}: ${result.error.message}`).toBe(
            'invalid-argument',
          )
        refused++
      }
      // A second argument is refused too, whatever the first.
      const extra = await shell.invoke(channel, undefined, 'more')
      expect(extra.ok ? 'ok' : extra.error.code).toBe('invalid-argument')
    }
    expect(refused).toBeGreaterThan(150)
    expect([...calls.values()].reduce((a, b) => a + b, 0)).toBe(0)
  })

  it('runs every good argument through the real core', async () => {
    const ctx = { folder, exportFile: join(folder, 'out.coco.json') } as Context
    shell.dialogs.folders.push(folder) // project.openDialog
    shell.dialogs.saveFiles.push(ctx.exportFile) // export.coco
    shell.dialogs.folders.push(null) // export.yolo: the user cancels
    shell.dialogs.openFiles.push(ctx.exportFile) // export.importCoco
    for (const [channel, { good }] of Object.entries(CASES) as [InvokeChannel, Case][]) {
      const before = calls.get(channel) ?? 0
      const value = await shell.value(channel, good(ctx))
      expect(calls.get(channel), channel).toBe(before + 1)
      // Ids the later cases need, taken from real results.
      if (channel === 'annot:project.openDialog') {
        const page = await shell.value<ImagePage>('annot:images.list', { limit: 10 })
        ctx.square = page.images.find((image) => image.path === 'a-square.png')?.id ?? -1
        ctx.photo = page.images.find((image) => image.path === 'b-photo.jpg')?.id ?? -1
      }
      if (channel === 'annot:categories.create') {
        ctx.categoryId = (value as { id: number }).id
        ctx.otherCategoryId = (await shell.value<{ id: number }>('annot:categories.create', { name: 'person' })).id
      }
      if (channel === 'annot:annotations.save') ctx.annotationId = (value as { id: number }).id
      // combine takes the mask being prompted on the annotation's image: prompt one first.
      if (channel === 'annot:annotations.update')
        await shell.value('annot:segment.decode', { imageId: ctx.square, points: [point(45, 30)] })
    }
    expect(ctx.square).toBeGreaterThan(0)
    expect(shell.app.projects.project).toBeNull() // project.close ran last
  })
})

describe('ids that parse but do not exist, and requests that need a project', () => {
  let engine: Promise<Engine>
  let shell: Shell
  let folder = ''

  beforeAll(async () => {
    engine = openDemoEngine()
    folder = (await makeProjectFolder()).dir
    shell = startShell(engine)
  })
  afterAll(async () => {
    await shell.dispose()
    await (await engine).close()
    rmSync(folder, { recursive: true, force: true })
  })

  it("answers 'no-project' before a project is open", async () => {
    for (const [channel, arg] of [
      ['annot:images.list', undefined],
      ['annot:images.get', { imageId: 1 }],
      ['annot:categories.list', undefined],
      ['annot:segment.decode', { imageId: 1, points: [point(1, 1)] }],
      ['annot:annotations.list', { imageId: 1 }],
      ['annot:export.coco', undefined],
    ] as const) {
      const result = await shell.invoke(channel, arg)
      expect(result.ok ? 'ok' : result.error.code, channel).toBe('no-project')
    }
  })

  it("answers 'not-found' for unknown ids, naming them, and never decodes", async () => {
    shell.dialogs.folders.push(folder)
    await shell.value('annot:project.openDialog')
    const cases: [string, unknown, string][] = [
      ['annot:images.get', { imageId: 9999 }, 'image-unknown'],
      ['annot:images.urls', { imageId: 9999 }, 'image-unknown'],
      ['annot:images.setStatus', { imageId: 9999, status: 'done' }, 'image-unknown'],
      ['annot:annotations.list', { imageId: 9999 }, 'image-unknown'],
      ['annot:annotations.delete', { annotationId: 9999 }, 'annotation-unknown'],
      ['annot:annotations.update', { annotationId: 9999, categoryId: 1 }, 'annotation-unknown'],
      ['annot:annotations.combine', { annotationId: 9999, op: 'add' }, 'annotation-unknown'],
      ['annot:categories.rename', { categoryId: 9999, name: 'x' }, 'category-unknown'],
      ['annot:categories.delete', { categoryId: 9999 }, 'category-unknown'],
      ['annot:segment.embeddingStatus', { imageId: 9999 }, 'image-unknown'],
      ['annot:segment.decode', { imageId: 9999, points: [point(1, 1)] }, 'image-unknown'],
      ['annot:project.open', { folder: '/etc' }, 'not-recent'],
    ]
    for (const [channel, arg, detail] of cases) {
      const result = await shell.invoke(channel, arg)
      expect(result.ok, channel).toBe(false)
      if (!result.ok) {
        expect(result.error, channel).toMatchObject({ code: 'not-found', detail })
        expect(result.error.message).toMatch(/9999|\/etc/)
      }
    }
    // A category in use, a duplicate name, an unreadable image: typed, not 'internal'.
    const car = await shell.value<{ id: number }>('annot:categories.create', { name: 'car' })
    const dup = await shell.invoke('annot:categories.create', { name: 'CAR' })
    expect(dup.ok ? 'ok' : dup.error.code).toBe('conflict')
    const page = await shell.value<ImagePage>('annot:images.list')
    const broken = page.images.find((image) => image.path === 'e-broken.png')
    const squareImage = page.images.find((image) => image.path === 'a-square.png')
    expect(broken && squareImage).toBeTruthy()
    // Rings are measured on the image: its size is known once its header is read.
    await shell.app.projects.project?.readPendingHeaders()
    await shell.value('annot:annotations.save', { imageId: squareImage?.id, categoryId: car.id, rings: square })
    const inUse = await shell.invoke('annot:categories.delete', { categoryId: car.id })
    expect(inUse.ok ? 'ok' : inUse.error).toMatchObject({ code: 'conflict', detail: 'category-in-use' })
    const outside = await shell.invoke('annot:segment.decode', { imageId: squareImage?.id, points: [point(500, 30)] })
    expect(outside.ok ? 'ok' : outside.error).toMatchObject({ code: 'invalid-argument', detail: 'bad-point' })
  })

  it("refuses calls that do not come from our window's main frame with 'forbidden'", async () => {
    const strangers = [
      { sender: { id: 99 }, senderFrame: TRUSTED_EVENT.senderFrame },
      { sender: TRUSTED_EVENT.sender, senderFrame: null },
      { sender: TRUSTED_EVENT.sender, senderFrame: { url: TRUSTED_EVENT.senderFrame?.url ?? '', parent: {} } },
      { sender: TRUSTED_EVENT.sender, senderFrame: { url: 'https://evil.example/index.html', parent: null } },
      { sender: TRUSTED_EVENT.sender, senderFrame: { url: 'file:///tmp/other/index.html', parent: null } },
      // The page the app loaded before it had its own scheme, and near misses of today's.
      {
        sender: TRUSTED_EVENT.sender,
        senderFrame: { url: 'file:///opt/sam-annotator/resources/app.asar/out/renderer/index.html', parent: null },
      },
      { sender: TRUSTED_EVENT.sender, senderFrame: { url: 'app://renderer/other.html', parent: null } },
      { sender: TRUSTED_EVENT.sender, senderFrame: { url: 'app://elsewhere/index.html', parent: null } },
      { sender: TRUSTED_EVENT.sender, senderFrame: { url: 'sam-image://renderer/index.html', parent: null } },
      { sender: TRUSTED_EVENT.sender, senderFrame: { url: 'not a url', parent: null } },
    ]
    for (const stranger of strangers) {
      for (const { channel } of INVOKE_CHANNELS) {
        const result = await shell.ipc.invoke(stranger, channel, undefined)
        expect(result.ok ? 'ok' : result.error.code, `${channel} from ${JSON.stringify(stranger)}`).toBe('forbidden')
      }
    }
    // The same call from our window works.
    expect((await shell.invoke('annot:categories.list')).ok).toBe(true)
  })
})
