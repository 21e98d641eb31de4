// Crash test: a child process saves annotations in a tight loop and prints each committed id;
// it is killed with SIGKILL at a random moment (sometimes while it is still opening the
// project), then the project is reopened: every reported id must be there and
// `PRAGMA integrity_check` must say ok. 20 rounds on the same project, so each round also
// recovers whatever the previous kill left in the WAL.

import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Project } from '../../../src-main/core/project/index.ts'
import { imageBytes, tempFolder, TSX_ARGS, writeFile } from '../../helpers/project-fixtures.ts'

const ROUNDS = 20
const ROOT = join(import.meta.dirname, '..', '..', '..')
const { dir, cleanup } = tempFolder('sam-crash-')
afterAll(() => cleanup())

interface Round {
  round: number
  killedAfterMs: number
  fromReady: boolean
  reported: number[]
}

/** Starts the save loop and SIGKILLs it `delayMs` after it is ready (or after spawn). */
function killAtRandom(round: number): Promise<Round> {
  const fromReady = round % 2 === 1
  // From spawn: 250-900 ms covers Node start, module loading, Project.open and the first saves.
  const delayMs = fromReady ? Math.random() * 150 : 250 + Math.random() * 650
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX_ARGS, join(import.meta.dirname, 'fixtures', 'save-loop.ts'), dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let timer: NodeJS.Timeout | undefined
    const arm = () => (timer = setTimeout(() => child.kill('SIGKILL'), delayMs))
    if (!fromReady) arm()
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (fromReady && timer === undefined && out.includes('ready\n')) arm()
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (signal !== 'SIGKILL') return reject(new Error(`round ${round}: child ended by itself (code ${code}): ${err}`))
      // Only whole lines: an id is reported once its newline is out.
      const lines = out.split('\n').slice(0, -1)
      resolve({ round, killedAfterMs: delayMs, fromReady, reported: lines.filter((l) => /^\d+$/.test(l)).map(Number) })
    })
  })
}

describe('crash safety', () => {
  it(`keeps every reported annotation and a sound file across ${ROUNDS} SIGKILLs`, async () => {
    writeFile(dir, 'a.png', await imageBytes('png', 40, 30))
    const setup = Project.open(dir)
    await setup.scan()
    setup.close()
    const dbPath = join(dir, '.sam-annotator', 'project.sqlite')
    const everReported = new Set<number>()
    let roundsWithSaves = 0
    for (let round = 0; round < ROUNDS; round++) {
      const result = await killAtRandom(round)
      const where = `round ${round} (killed ${result.killedAfterMs.toFixed(0)} ms after ${result.fromReady ? 'ready' : 'spawn'}, ${result.reported.length} ids reported)`
      // Check the file as SQLite finds it after the crash, before our own open touches it.
      const raw = new Database(dbPath)
      expect(raw.pragma('integrity_check', { simple: true }), where).toBe('ok')
      raw.close()
      const project = Project.open(dir)
      const present = new Set(Array.from(project.iterateAnnotations(), (a) => a.id))
      project.close()
      for (const id of result.reported) everReported.add(id)
      const lost = [...everReported].filter((id) => !present.has(id))
      expect(lost, where).toEqual([])
      if (result.reported.length > 0) roundsWithSaves++
    }
    // The test only means something if kills landed mid-stream.
    expect(roundsWithSaves).toBeGreaterThanOrEqual(ROUNDS / 2)
  }, 60_000)
})
