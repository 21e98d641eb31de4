// Fuzzes every invoke channel through the real handlers over a real project: generated garbage
// (wrong types, missing and extra keys, prototype keys, huge and non-finite numbers, deep
// nesting, long strings), one-field mutations of a valid argument (pure garbage only tests the
// schema; a mutated valid argument reaches the services), and poisoned geometry for every method
// that takes some (rings, points, boxes). Every call must settle within a bound and answer ok or
// a typed refusal: 'internal' is a bug. Afterwards the project still lists and its database
// passes SQLite's integrity check.
//
// Deterministic per seed; a failure names the seed, the case number, the channel and the
// argument. Replay another seed with FUZZ_SEED=<n> npx vitest run tests/integration/shell/fuzz.test.ts
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ERROR_CODES,
  INVOKE_CHANNELS,
  MAX_PROMPT_POINTS,
  type Annotation,
  type ImagePage,
  type InvokeChannel,
  type IpcResult,
} from '../../../src-preload/contract/index.ts'
import { MAX_RING_VALUES, MAX_RINGS } from '../../../src-preload/contract/limits.ts'
import { mulberry32 } from '../../helpers/synthetic.ts'
import { openShellProject, type OpenedShell, type Shell } from './fixture.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 0x5a13)
/** Generated cases per channel (garbage and mutations together), besides the geometry poisons. */
const CASES_PER_CHANNEL = 20
/** A hang detector, not a performance bound: the slowest honest call here takes well under it. */
const CALL_BOUND_MS = 5_000

type Rand = () => number

interface Ids {
  /** Every image of the project: readable ones, the broken one, the large rotated one. */
  images: number[]
  square: number
  large: number
  categories: number[]
  annotations: number[]
  folder: string
}

// A valid argument per channel, the seed of its mutations. A channel without one here (a new
// channel, or one that takes no argument) is still fuzzed, from `undefined`.
const VALID: Partial<Record<InvokeChannel, (ids: Ids, rand: Rand) => unknown>> = {
  'annot:project.open': (ids) => ({ folder: ids.folder }),
  'annot:project.forgetRecent': (ids) => ({ folder: ids.folder }),
  'annot:images.list': (ids, rand) => ({ after: pick(rand, ids.images), limit: 10, status: 'new', name: 'a' }),
  'annot:images.get': (ids, rand) => ({ imageId: pick(rand, ids.images) }),
  'annot:images.urls': (ids, rand) => ({ imageId: pick(rand, ids.images) }),
  'annot:images.setStatus': (ids, rand) => ({ imageId: pick(rand, ids.images), status: 'in_progress' }),
  'annot:categories.create': (_ids, rand) => ({
    name: `fuzz ${Math.floor(rand() * 1e6)}`,
    color: '#12ab34',
    supercategory: 'things',
  }),
  'annot:categories.rename': (ids, rand) => ({
    categoryId: pick(rand, ids.categories),
    name: `renamed ${Math.floor(rand() * 1e6)}`,
  }),
  'annot:categories.recolor': (ids, rand) => ({ categoryId: pick(rand, ids.categories), color: '#000000' }),
  'annot:categories.reorder': (ids) => ({ categoryIds: [...ids.categories].reverse() }),
  'annot:categories.delete': (ids, rand) => ({ categoryId: pick(rand, ids.categories), force: false }),
  'annot:segment.setCurrent': (ids) => ({ imageId: ids.square }),
  'annot:segment.embeddingStatus': (ids, rand) => ({ imageId: pick(rand, ids.images) }),
  'annot:segment.decode': (ids, rand) => ({
    imageId: ids.square,
    points: [{ x: 45, y: 30, label: 1 }],
    box: { x0: 20, y0: 10, x1: 70, y1: 55 },
    candidate: 0,
    reprompt: pick(rand, ids.annotations),
  }),
  'annot:annotations.list': (ids, rand) => ({ imageId: pick(rand, ids.images) }),
  'annot:annotations.save': (ids, rand) => ({
    imageId: pick(rand, ids.images),
    categoryId: pick(rand, ids.categories),
    rings: [[10, 10, 30, 10, 30, 30, 10, 30]],
  }),
  'annot:annotations.update': (ids, rand) => ({
    annotationId: pick(rand, ids.annotations),
    categoryId: pick(rand, ids.categories),
    rings: [[12, 12, 28, 12, 28, 28, 12, 28]],
  }),
  'annot:annotations.combine': (ids, rand) => ({ annotationId: pick(rand, ids.annotations), op: 'subtract' }),
  'annot:annotations.delete': (ids, rand) => ({ annotationId: pick(rand, ids.annotations) }),
  'annot:export.coco': () => ({ segmentation: 'rle' }),
}

function pick<T>(rand: Rand, values: readonly T[]): T {
  return values[Math.floor(rand() * values.length)]
}

const NUMBERS = [
  0,
  -0,
  -1,
  1,
  2,
  1.5,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e6,
  1e6 + 1,
  // Electron's IPC is a structured clone, which carries these (JSON would not).
  NaN,
  Infinity,
  -Infinity,
]
const STRINGS = [
  '',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '0x10',
  '1',
  '__proto__',
  'constructor',
  '/',
  '/etc/passwd',
  '../../..',
  'C:\\Windows',
  '\\\\server\\share',
  'a\0b',
  "'; DROP TABLE annotations; --",
  '\u202e\ud800',
  '#zzzzzz',
  'auto',
  'done',
]
const KEYS = ['__proto__', 'constructor', 'prototype', 'imageId', 'categoryId', 'rings', 'points', 'x', 'folder', '']

/** Any value: scalars, strings up to 1 MB, arrays, objects (with prototype keys), deep nests. */
function garbage(rand: Rand, depth = 0): unknown {
  const kind = Math.floor(rand() * (depth > 2 ? 6 : 10))
  switch (kind) {
    case 0:
      return pick(rand, NUMBERS)
    case 1:
      return pick(rand, STRINGS)
    case 2:
      return pick(rand, [undefined, null, true, false, 0n, new Date(0), new Uint8Array(4)] as unknown[])
    case 3:
      return Math.floor((rand() - 0.5) * 2 ** 40)
    case 4:
      // Long strings, bounded: up to 1 MB.
      return pick(rand, ['x', '9', '/', '\u00e9']).repeat(Math.floor(rand() ** 3 * 1_000_000))
    case 5:
      return rand() < 0.5 ? pick(rand, NUMBERS) : pick(rand, STRINGS)
    case 6:
      return Array.from({ length: Math.floor(rand() ** 2 * 20) }, () => garbage(rand, depth + 1))
    case 7:
      return Array.from({ length: pick(rand, [0, 1, 3, 7, 65, 10_001]) }, () => pick(rand, NUMBERS))
    case 8:
      return objectOf(rand, depth)
    default:
      return deepNest(rand)
  }
}

function objectOf(rand: Rand, depth: number): Record<string, unknown> {
  const entries: [string, unknown][] = []
  const n = Math.floor(rand() * 4)
  for (let i = 0; i < n; i++) entries.push([pick(rand, KEYS), garbage(rand, depth + 1)])
  return withOwnKeys(entries)
}

/** An object whose keys (even `__proto__`) are own data properties, as a structured clone makes them. */
function withOwnKeys(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of entries)
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  return out
}

function deepNest(rand: Rand): unknown {
  let value: unknown = pick(rand, NUMBERS)
  const levels = pick(rand, [50, 500, 2_000])
  for (let i = 0; i < levels; i++) value = rand() < 0.5 ? [value] : { imageId: value }
  return value
}

/** The valid argument with one thing changed: a value replaced, a key dropped or added, an id swapped. */
function mutate(rand: Rand, valid: unknown, ids: Ids): unknown {
  if (typeof valid !== 'object' || valid === null) return garbage(rand)
  const copy = structuredClone(valid) as Record<string, unknown>
  // Pick a place: a top-level key, or one level down into an array or object.
  let target: Record<string, unknown> = copy
  let keys = Object.keys(target)
  let key = pick(rand, keys)
  const inner = target[key]
  if (rand() < 0.4 && typeof inner === 'object' && inner !== null && Object.keys(inner).length > 0) {
    target = inner as Record<string, unknown>
    keys = Object.keys(target)
    key = pick(rand, keys)
  }
  switch (Math.floor(rand() * 6)) {
    case 0:
      delete target[key]
      return copy
    case 1:
      Object.defineProperty(target, pick(rand, KEYS), {
        value: garbage(rand, 2),
        enumerable: true,
        writable: true,
        configurable: true,
      })
      return copy
    case 2:
      // An id that parses: another existing one, or one that does not exist.
      target[key] = pick(rand, [...ids.images, ...ids.categories, ...ids.annotations, 2 ** 31 - 1, 9_999_999])
      return copy
    case 3:
      target[key] = pick(rand, NUMBERS)
      return copy
    case 4:
      target[key] = pick(rand, STRINGS)
      return copy
    default:
      target[key] = garbage(rand, 1)
      return copy
  }
}

/** Rings that parse (or nearly do) but are not a sensible polygon of the image. */
function poisonedRings(rand: Rand): [string, unknown][] {
  const zigzag = (n: number, w: number, h: number): number[] => {
    const ring: number[] = []
    for (let i = 0; i < n; i++) ring.push(rand() * w, rand() * h)
    return ring
  }
  return [
    ['±1e308', [[1e308, 1e308, -1e308, 1e308, -1e308, -1e308]]],
    ['NaN', [[0, 0, NaN, 0, 10, 10]]],
    ['Infinity', [[0, 0, Infinity, 0, 10, 10]]],
    ['far outside the image', [[-1e6, -1e6, 1e6, -1e6, 1e6, 1e6, -1e6, 1e6]]],
    ['entirely outside the image', [[5000, 5000, 5100, 5000, 5100, 5100]]],
    ['negative quadrant', [[-50, -50, -10, -50, -10, -10]]],
    ['1-point ring', [[5, 5]]],
    ['2-point ring', [[5, 5, 9, 9]]],
    ['collinear ring', [[0, 0, 10, 10, 20, 20]]],
    ['one point thrice', [[7, 7, 7, 7, 7, 7]]],
    ['sub-pixel ring', [[3.1, 3.1, 3.2, 3.1, 3.2, 3.2]]],
    ['bow-tie', [[0, 0, 40, 40, 40, 0, 0, 40]]],
    ['bow-tie, repeated and reversed', [[0, 0, 40, 40, 40, 0, 0, 40, 0, 0, 40, 40, 0, 40, 40, 0]]],
    ['odd count', [[0, 0, 10, 0, 10]]],
    ['-0', [[-0, -0, 10, -0, 10, 10]]],
    ['empty ring', [[]]],
    ['no rings', []],
    ['1000 tiny rings', Array.from({ length: MAX_RINGS }, (_, i) => [i % 90, 1, (i % 90) + 1, 1, i % 90, 2])],
    ['1001 rings', Array.from({ length: MAX_RINGS + 1 }, () => [0, 0, 1, 0, 1, 1])],
    ['10^5-vertex zigzag', [zigzag(MAX_RING_VALUES / 2, 96, 64)]],
    ['10^5-vertex zigzag over the large image', [zigzag(MAX_RING_VALUES / 2, 1000, 3000)]],
    ['10^5+1 vertices', [zigzag(MAX_RING_VALUES / 2 + 1, 96, 64)]],
  ]
}

/** Points and boxes for decode that parse (or nearly do) but are no sensible prompt. */
function poisonedPrompts(): [string, unknown][] {
  const p = (x: number, y: number, label = 1): unknown => ({ x, y, label })
  return [
    ['point at 1e308', { points: [p(1e308, 1e308)] }],
    ['point far outside', { points: [p(1e6, -1e6)] }],
    ['point on the far edge', { points: [p(96, 64)] }],
    ['negative-only prompt', { points: [p(10, 10, 0)] }],
    ['most points', { points: Array.from({ length: MAX_PROMPT_POINTS }, (_, i) => p(i, i % 64, i % 2)) }],
    ['too many points', { points: Array.from({ length: MAX_PROMPT_POINTS + 1 }, () => p(1, 1)) }],
    ['inverted box', { points: [], box: { x0: 80, y0: 60, x1: 5, y1: 5 } }],
    ['empty box', { points: [], box: { x0: 10, y0: 10, x1: 10, y1: 10 } }],
    ['box far outside', { points: [], box: { x0: -1e6, y0: -1e6, x1: 1e6, y1: 1e6 } }],
    ['box of NaN', { points: [], box: { x0: NaN, y0: 0, x1: 1, y1: 1 } }],
    ['no prompt', { points: [], box: null }],
  ]
}

type Outcome = { settled: true; result: IpcResult<unknown> } | { settled: false }

async function bounded(call: Promise<IpcResult<unknown>>): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), CALL_BOUND_MS)
  })
  try {
    return await Promise.race([call.then((result) => ({ settled: true as const, result })), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A short, printable form of an argument (strings and arrays abbreviated). */
function show(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'string' && v.length > 40) return `${v.slice(0, 20)}…(${v.length} chars)`
      if (Array.isArray(v) && v.length > 12) return [...v.slice(0, 8), `…(${v.length} items)`]
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
      if (typeof v === 'bigint') return `${v}n`
      return v
    })
    return (text ?? String(value)).slice(0, 300)
  } catch (err) {
    return `<unprintable: ${(err as Error).message}>`
  }
}

interface Case {
  channel: string
  args: unknown[]
  what: string
}

describe(`fuzzing every channel (seed ${SEED})`, () => {
  let opened: OpenedShell
  let shell: Shell
  const ids: Ids = { images: [], square: 0, large: 0, categories: [], annotations: [], folder: '' }

  beforeAll(async () => {
    opened = await openShellProject('sam-shell-fuzz-')
    shell = opened.shell
    ids.folder = opened.folder
    ids.images = [...opened.imageIds.values()]
    ids.square = opened.imageIds.get('a-square.png') ?? 0
    ids.large = opened.imageIds.get('d-large.jpg') ?? 0
    const other = await shell.value<{ id: number }>('annot:categories.create', { name: 'other' })
    ids.categories = [opened.categoryId, other.id]
    for (const categoryId of ids.categories) {
      const saved = await shell.value<Annotation>('annot:annotations.save', {
        imageId: ids.square,
        categoryId,
        rings: [[20, 10, 50, 10, 50, 40, 20, 40]],
      })
      ids.annotations.push(saved.id)
    }
    // combine and prompted saves take the mask being prompted: have one.
    await shell.value('annot:segment.decode', { imageId: ids.square, points: [{ x: 45, y: 30, label: 1 }] })
  })
  afterAll(async () => {
    await opened.close()
  })

  function cases(): Case[] {
    const rand = mulberry32(SEED)
    const out: Case[] = []
    for (const { channel } of INVOKE_CHANNELS) {
      const valid = VALID[channel]
      for (let i = 0; i < CASES_PER_CHANNEL; i++) {
        let args: unknown[]
        let what: string
        if (valid !== undefined && rand() < 0.6) {
          args = [mutate(rand, valid(ids, rand), ids)]
          what = 'mutated valid argument'
        } else {
          args = [garbage(rand)]
          what = 'garbage'
        }
        // A second argument now and then: the contract takes one.
        if (rand() < 0.08) args.push(garbage(rand, 2))
        // Closing the project is a valid answer to `close()`; it would only turn every later
        // call into 'no-project' and leave nothing to check afterwards.
        if (channel === 'annot:project.close' && args.length === 1 && args[0] === undefined) args[0] = null
        out.push({ channel, args, what })
      }
    }
    for (const [what, rings] of poisonedRings(rand)) {
      for (const imageId of [ids.square, ids.large, pick(rand, ids.images)]) {
        out.push({
          channel: 'annot:annotations.save',
          args: [{ imageId, categoryId: pick(rand, ids.categories), rings }],
          what: `poisoned rings: ${what}`,
        })
      }
      out.push({
        channel: 'annot:annotations.update',
        args: [{ annotationId: pick(rand, ids.annotations), rings }],
        what: `poisoned rings: ${what}`,
      })
    }
    for (const [what, prompt] of poisonedPrompts()) {
      out.push({
        channel: 'annot:segment.decode',
        args: [{ imageId: pick(rand, [ids.square, ids.square, ...ids.images]), ...(prompt as object) }],
        what: `poisoned prompt: ${what}`,
      })
    }
    // Interleaved, so one channel's calls meet the state others left (a deleted category, a
    // closed prompt, a switched image).
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[out[i], out[j]] = [out[j], out[i]]
    }
    return out
  }

  it('answers every call within the bound, with ok or a typed refusal', async () => {
    const all = cases()
    const failures: string[] = []
    const refusals = new Map<string, number>()
    let oks = 0
    for (const [index, { channel, args, what }] of all.entries()) {
      const tag = `seed ${SEED} case ${index}: ${channel} (${what}) ${args.map(show).join(', ')}`
      let outcome: Outcome
      const started = performance.now()
      try {
        // What Electron's IPC would deliver: a structured clone of the arguments.
        outcome = await bounded(shell.invoke(channel, ...args.map((arg) => structuredClone(arg))))
      } catch (err) {
        failures.push(`${tag}: threw ${(err as Error).message}`)
        continue
      }
      if (!outcome.settled) {
        failures.push(`${tag}: no answer within ${CALL_BOUND_MS} ms`)
        continue
      }
      // A handler that computes synchronously holds the event loop, so the timer above cannot
      // fire before it answers: the elapsed time catches that kind of hang (main frozen).
      const elapsed = performance.now() - started
      if (elapsed > CALL_BOUND_MS) {
        failures.push(`${tag}: answered after ${Math.round(elapsed)} ms, holding main`)
        continue
      }
      const { result } = outcome
      if (result.ok) {
        oks++
        // Track what exists now, so later mutations pick live ids too.
        const value = result.value as { id?: unknown; imageId?: unknown } | null
        if (channel === 'annot:annotations.save' && typeof value?.id === 'number') ids.annotations.push(value.id)
        if (channel === 'annot:categories.create' && typeof value?.id === 'number') ids.categories.push(value.id)
        continue
      }
      const { code, message } = result.error
      if (!(ERROR_CODES as readonly string[]).includes(code) || code === 'internal') {
        failures.push(`${tag}: ${code}: ${message}`)
        continue
      }
      refusals.set(code, (refusals.get(code) ?? 0) + 1)
    }
    expect(failures, failures.join('\n')).toEqual([])
    // The fuzz reached past the schema: some calls succeeded, some were refused by the core.
    expect(all.length).toBeGreaterThan(300)
    expect(oks, `seed ${SEED}`).toBeGreaterThan(10)
    expect(refusals.get('invalid-argument'), `seed ${SEED}`).toBeGreaterThan(100)
    expect(refusals.get('not-found') ?? 0, `seed ${SEED}`).toBeGreaterThan(0)
  })

  it('leaves a project that opens, lists and passes the integrity check', async () => {
    expect(shell.app.projects.project, `seed ${SEED}: the project was closed`).not.toBeNull()
    const images: number[] = []
    for (let after: number | undefined; ;) {
      const page = await shell.value<ImagePage>('annot:images.list', { after, limit: 1000 })
      images.push(...page.images.map((image) => image.id))
      if (page.next === null) break
      after = page.next
    }
    expect(images.sort()).toEqual([...opened.imageIds.values()].sort())
    for (const imageId of images) await shell.value('annot:annotations.list', { imageId })
    await shell.value('annot:categories.list')
    await shell.value('annot:project.current')
    const db = new Database(join(opened.folder, '.sam-annotator', 'project.sqlite'), {
      readonly: true,
      fileMustExist: true,
    })
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    } finally {
      db.close()
    }
  })
})
