// The ordered list of schema migrations and the runner. A migration moves the schema from
// version N-1 to N; each runs in its own IMMEDIATE transaction together with the
// `PRAGMA user_version` bump, so a crash leaves the file at N-1 or N, never in between, and
// two processes opening the same old project cannot both migrate it.
//
// To add one: write `NNN-what.ts` exporting version, name and up(db), append it below, and the
// migration tests pick it up (they run every migration from each earlier version).

import type { Database } from 'better-sqlite3'
import * as m001 from './001-initial.ts'
import * as m002 from './002-annotation-count.ts'

export interface Migration {
  version: number
  name: string
  up(db: Database): void
}

export const MIGRATIONS: readonly Migration[] = [m001, m002]

/** The schema version this build writes. A file with a higher user_version is refused. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version

for (let i = 0; i < MIGRATIONS.length; i++) {
  if (MIGRATIONS[i].version !== i + 1)
    throw new Error(`migration ${MIGRATIONS[i].name} has version ${MIGRATIONS[i].version}, expected ${i + 1}`)
}

export function readSchemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

/**
 * Runs every migration above the file's version, up to `target` (the latest by default; the
 * tests stop earlier to build old files). Returns the versions before and after.
 */
export function migrate(db: Database, target = SCHEMA_VERSION): { from: number; to: number } {
  const from = readSchemaVersion(db)
  for (const migration of MIGRATIONS) {
    if (migration.version > target) break
    // Already applied: no write lock taken, so opening an up-to-date project never waits for
    // (or blocks on) another process's write.
    if (migration.version <= from) continue
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if (readSchemaVersion(db) >= migration.version) return
      migration.up(db)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
  return { from, to: readSchemaVersion(db) }
}
