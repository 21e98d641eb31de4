// SQL for the images table. Rows come back as ProjectImage (with their annotation count); the
// scan and header-reading bookkeeping (mtime, fingerprint, header_read) stays internal.
// The count is the stored column the annotations triggers keep (migration 002): reading a row
// costs the same whatever the image holds, and every save reads its image's row.

import type { Database, Statement } from 'better-sqlite3'
import type { ProjectImage, ImageStatus } from './types.ts'

interface ImageRecord {
  id: number
  path: string
  width: number | null
  height: number | null
  size: number
  status: ImageStatus
  missing: number
  error: string | null
  annotation_count: number
}

/** What a scan needs to know about each stored image. */
export interface StoredImage {
  id: number
  path: string
  size: number
  mtimeMs: number
  fingerprint: string | null
  missing: boolean
  headerRead: boolean
}

export interface PendingImage {
  id: number
  path: string
}

/** What reading one image's header stores: its size in pixels, or why it cannot be used. */
export interface StoredHeader {
  width: number | null
  height: number | null
  fingerprint: string
  size: number
  error: string | null
}

export interface NewImage {
  path: string
  size: number
  mtimeMs: number
  fingerprint: string | null
}

const SELECT_ROW = `
  SELECT i.id, i.path, i.width, i.height, i.size, i.status, i.missing, i.error, i.annotation_count
  FROM images i`

/** Which images a list or count takes; `name` is a case-insensitive substring of the path. */
export interface ImageFilter {
  status?: ImageStatus
  missing?: boolean
  name?: string
}

/**
 * SQLite's lower() and LIKE fold ASCII only; folding in JS makes "É" find "é" too. Costs about
 * 30 ms per 100,000 paths, and only queries with a name filter call it.
 */
const PATH_HAS = 'image_path_has'

function filterClause(filter: ImageFilter): { where: string[]; params: (string | number)[] } {
  const where: string[] = []
  const params: (string | number)[] = []
  if (filter.status !== undefined) {
    where.push('i.status = ?')
    params.push(filter.status)
  }
  if (filter.missing !== undefined) {
    where.push('i.missing = ?')
    params.push(filter.missing ? 1 : 0)
  }
  if (filter.name !== undefined && filter.name !== '') {
    where.push(`${PATH_HAS}(i.path, ?)`)
    params.push(filter.name.toLowerCase())
  }
  return { where, params }
}

function whereText(where: string[]): string {
  return where.length ? `WHERE ${where.join(' AND ')}` : ''
}

function toRow(r: ImageRecord): ProjectImage {
  return {
    id: r.id,
    path: r.path,
    width: r.width,
    height: r.height,
    size: r.size,
    status: r.status,
    missing: r.missing === 1,
    error: r.error,
    annotationCount: r.annotation_count,
  }
}

export class ImagesRepository {
  private readonly byId: Statement<[number], ImageRecord>
  private readonly byPath: Statement<[string], ImageRecord>
  private readonly setStatusStmt: Statement<[ImageStatus, number]>
  private readonly relinkStmt: Statement<[string, number, number, string | null, number]>
  private readonly markMissingStmt: Statement<[number, number]>
  private readonly changedStmt: Statement<[number, number, number]>
  private readonly sortStmt: Statement<[number, number]>
  private readonly headerStmt: Statement<[number | null, number | null, string, number, string | null, number, string]>
  private readonly promoteStmt: Statement<[number]>
  private readonly demoteStmt: Statement<[number]>
  private readonly statements = new Map<string, Statement>()
  private readonly scanPageStmt: Statement<
    [number, number],
    {
      id: number
      path: string
      size: number
      mtime_ms: number
      fingerprint: string | null
      missing: number
      header_read: number
    }
  >
  private readonly orderPageStmt: Statement<[number, number], { id: number; path: string; sortIndex: number }>
  private readonly insertIfNewStmt: Statement<[string, number, number, string | null, string]>

  constructor(private readonly db: Database) {
    db.function(PATH_HAS, { deterministic: true }, (path: unknown, needle: unknown) =>
      String(path).toLowerCase().includes(String(needle)) ? 1 : 0,
    )
    this.byId = db.prepare(`${SELECT_ROW} WHERE i.id = ?`)
    this.byPath = db.prepare(`${SELECT_ROW} WHERE i.path = ?`)
    this.setStatusStmt = db.prepare('UPDATE images SET status = ? WHERE id = ?')
    // A re-linked row keeps its id, status and annotations; its header is read again only
    // when it had none (a fingerprint match means the same bytes, hence the same header).
    // OR IGNORE: a concurrent scan may have inserted the path meanwhile (scans plan outside the lock).
    this.relinkStmt = db.prepare(`UPDATE OR IGNORE images SET path = ?, size = ?, mtime_ms = ?, missing = 0,
      fingerprint = coalesce(?, fingerprint) WHERE id = ?`)
    this.markMissingStmt = db.prepare('UPDATE images SET missing = ? WHERE id = ?')
    this.changedStmt = db.prepare(`UPDATE images SET size = ?, mtime_ms = ?, missing = 0, width = NULL, height = NULL,
      fingerprint = NULL, error = NULL, header_read = 0 WHERE id = ?`)
    this.sortStmt = db.prepare('UPDATE images SET sort_index = ? WHERE id = ?')
    // Guarded by path: if a concurrent scan moved the row, this stale result is dropped.
    this.headerStmt = db.prepare(`UPDATE images SET width = ?, height = ?, fingerprint = ?, size = ?, error = ?,
      header_read = 1 WHERE id = ? AND path = ?`)
    this.scanPageStmt = db.prepare(
      'SELECT id, path, size, mtime_ms, fingerprint, missing, header_read FROM images WHERE id > ? ORDER BY id LIMIT ?',
    )
    this.orderPageStmt = db.prepare(
      'SELECT id, path, sort_index AS sortIndex FROM images WHERE id > ? ORDER BY id LIMIT ?',
    )
    this.insertIfNewStmt = db.prepare(
      'INSERT OR IGNORE INTO images (path, size, mtime_ms, fingerprint, added_at) VALUES (?, ?, ?, ?, ?)',
    )
    this.promoteStmt = db.prepare(`UPDATE images SET status = 'in_progress' WHERE id = ? AND status = 'new'`)
    this.demoteStmt = db.prepare(`UPDATE images SET status = 'new' WHERE id = ? AND status = 'in_progress'
      AND NOT EXISTS (SELECT 1 FROM annotations WHERE image_id = images.id)`)
  }

  get(id: number): ProjectImage | null {
    const r = this.byId.get(id)
    return r ? toRow(r) : null
  }

  getByPath(path: string): ProjectImage | null {
    const r = this.byPath.get(path)
    return r ? toRow(r) : null
  }

  /**
   * One page of the list order (sort_index, then id), keyset-paged: `after` names the last image
   * of the page before, so a page costs the same at the end of 100,000 images as at the start.
   */
  list(options: ImageFilter & { after?: number; limit: number }): ProjectImage[] {
    const { where, params } = filterClause(options)
    if (options.after !== undefined) {
      where.push('(i.sort_index, i.id) > (SELECT sort_index, id FROM images WHERE id = ?)')
      params.push(options.after)
    }
    params.push(options.limit)
    return this.statement(`${SELECT_ROW} ${whereText(where)} ORDER BY i.sort_index, i.id LIMIT ?`)
      .all(...params)
      .map((r) => toRow(r as ImageRecord))
  }

  /** How many images match the filter (one pass over the table). */
  count(filter: ImageFilter): number {
    const { where, params } = filterClause(filter)
    return (this.statement(`SELECT count(*) AS n FROM images i ${whereText(where)}`).get(...params) as { n: number }).n
  }

  /** Images of each status, the whole project. */
  statusCounts(): Record<ImageStatus, number> {
    const counts: Record<ImageStatus, number> = { new: 0, in_progress: 0, done: 0, skipped: 0 }
    const rows = this.statement('SELECT status, count(*) AS n FROM images GROUP BY status').all() as {
      status: ImageStatus
      n: number
    }[]
    for (const row of rows) counts[row.status] = row.n
    return counts
  }

  /** Prepared once per query shape (a filter has a handful of shapes). */
  private statement(sql: string): Statement {
    let statement = this.statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  setStatus(id: number, status: ImageStatus): void {
    this.setStatusStmt.run(status, id)
  }

  /** A first annotation moves a 'new' image to 'in_progress'; other statuses are the user's. */
  promoteToInProgress(id: number): void {
    this.promoteStmt.run(id)
  }

  /**
   * The mirror of the promotion: an 'in_progress' image left with no annotation is 'new' again,
   * so the list's "new" filter finds it; 'done' and 'skipped' stay, they are the user's.
   */
  demoteIfEmpty(id: number): void {
    this.demoteStmt.run(id)
  }

  /** What a scan needs of the rows with id > `afterId`, a page at a time (a read of 100,000 rows in one go holds the thread). */
  scanPage(afterId: number, limit: number): StoredImage[] {
    const rows = this.scanPageStmt.all(afterId, limit)
    return rows.map((r) => ({
      id: r.id,
      path: r.path,
      size: r.size,
      mtimeMs: r.mtime_ms,
      fingerprint: r.fingerprint,
      missing: r.missing === 1,
      headerRead: r.header_read === 1,
    }))
  }

  /** Path and display position of the rows with id > `afterId`, a page at a time. */
  orderPage(afterId: number, limit: number): { id: number; path: string; sortIndex: number }[] {
    return this.orderPageStmt.all(afterId, limit)
  }

  /** A new file; false when a concurrent scan inserted its path first. */
  insertIfNew(image: NewImage, addedAt: string): boolean {
    return this.insertIfNewStmt.run(image.path, image.size, image.mtimeMs, image.fingerprint, addedAt).changes > 0
  }

  relink(id: number, image: NewImage): void {
    this.relinkStmt.run(image.path, image.size, image.mtimeMs, image.fingerprint, id)
  }

  setMissing(id: number, missing: boolean): void {
    this.markMissingStmt.run(missing ? 1 : 0, id)
  }

  markChanged(id: number, size: number, mtimeMs: number): void {
    this.changedStmt.run(size, mtimeMs, id)
  }

  /** Moves one row to a display position. */
  setSortIndex(id: number, index: number): void {
    this.sortStmt.run(index, id)
  }

  pending(limit: number, afterId: number): PendingImage[] {
    return this.db
      .prepare('SELECT id, path FROM images WHERE header_read = 0 AND missing = 0 AND id > ? ORDER BY id LIMIT ?')
      .all(afterId, limit) as PendingImage[]
  }

  countPending(): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM images WHERE header_read = 0 AND missing = 0').get() as { n: number }
    ).n
  }

  saveHeader(image: PendingImage, header: StoredHeader): void {
    this.headerStmt.run(
      header.width,
      header.height,
      header.fingerprint,
      header.size,
      header.error,
      image.id,
      image.path,
    )
  }

  counts(): { images: number; missing: number; unreadable: number } {
    return this.db
      .prepare(
        `SELECT count(*) AS images, coalesce(sum(missing), 0) AS missing,
        coalesce(sum(error IS NOT NULL AND missing = 0), 0) AS unreadable FROM images`,
      )
      .get() as { images: number; missing: number; unreadable: number }
  }
}
