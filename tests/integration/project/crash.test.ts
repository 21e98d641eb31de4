// Crash test: a child process saves annotations in a tight loop and prints each committed id;
// it is killed with SIGKILL, then the project is reopened: every reported id must be there and
// `PRAGMA integrity_check` must say ok. 20 rounds on the same project, so each round also
// recovers whatever the previous kill left in the WAL.
//
// Where the kills land does not depend on the machine's speed: odd rounds kill as soon as the
// child has reported a random number (1..50) of committed ids, so the kill lands mid-stream by
// construction; even rounds kill at a random moment after spawn, which may be while Node starts,
// while the project opens, or mid-stream.

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

type Kill = { after: 'ids'; ids: number } | { after: 'ms'; ms: number }

interface Round {
  round: number
  kill: Kill
  reported: number[]
}

/** Committed ids in `out`: whole lines only (an id is reported once its newline is out). */
function reportedIds(out: string): number[] {
  return out
    .split('\n')
    .slice(0, -1)
    .filter((l) => /^\d+$/.test(l))
    .map(Number)
}

/** Starts the save loop and SIGKILLs it once it reported `kill.ids` ids, or `kill.ms` after spawn. */
function runAndKill(round: number, kill: Kill): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX_ARGS, join(import.meta.dirname, 'fixtures', 'save-loop.ts'), dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    const timer = kill.after === 'ms' ? setTimeout(() => child.kill('SIGKILL'), kill.ms) : undefined
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (kill.after === 'ids' && !child.killed && reportedIds(out).length >= kill.ids) child.kill('SIGKILL')
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (signal !== 'SIGKILL') return reject(new Error(`round ${round}: child ended by itself (code ${code}): ${err}`))
      resolve({ round, kill, reported: reportedIds(out) })
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
    for (let round = 0; round < ROUNDS; round++) {
      // From spawn, 0-1000 ms: on a fast machine that spans start-up, opening and saving; on a
      // slow one it may all fall before the first save, which the odd rounds make up for.
      const kill: Kill =
        round % 2 === 1
          ? { after: 'ids', ids: 1 + Math.floor(Math.random() * 50) }
          : { after: 'ms', ms: Math.random() * 1000 }
      const result = await runAndKill(round, kill)
      const when = kill.after === 'ids' ? `once ${kill.ids} ids were reported` : `${kill.ms.toFixed(0)} ms after spawn`
      const where = `round ${round} (killed ${when}, ${result.reported.length} ids reported)`
      // The kill of an odd round landed mid-stream: after the ids it waited for, while saving more.
      if (kill.after === 'ids') expect(result.reported.length, where).toBeGreaterThanOrEqual(kill.ids)
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
    }
  }, 60_000)
})
