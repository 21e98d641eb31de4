// SQL for project_meta: facts about the project itself (the folder it was created for, when).
// Kept so a database found under user data can say which folder it belongs to.

import type { Database } from 'better-sqlite3'

export function writeMeta(db: Database, entries: Record<string, string>): void {
  const upsert = db.prepare(
    'INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  )
  db.transaction(() => {
    for (const [key, value] of Object.entries(entries)) upsert.run(key, value)
  })()
}

export function readMeta(db: Database): Record<string, string> {
  const rows = db.prepare('SELECT key, value FROM project_meta').all() as { key: string; value: string }[]
  return Object.fromEntries(rows.map((r) => [r.key, r.value]))
}
