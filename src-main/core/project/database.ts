// Where a project's database lives and how it is opened safely.
//
// - In the folder (`<folder>/.sam-annotator/project.sqlite`) so a project travels with its
//   images; under the user's data directory when the folder cannot be written.
// - A new database is built under a temporary name and linked into place, so a crash or a
//   second process never sees a half-created file.
// - An existing file is checked before SQLite writes anything to it: a folder in its place,
//   wrong magic bytes, a truncated file, a schema version newer than this build or one no build
//   writes, or a schema missing a table or column of its version (a dropped table) all give a
//   UserError naming the file, and the file is left byte-for-byte as it was.
// - WAL with synchronous=FULL: every commit is fsynced, so a saved annotation survives power
//   loss, not only a crash of the process (NORMAL in WAL mode can lose the last commits).

import Database from 'better-sqlite3'
import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { UserError } from '../errors.ts'
import { writeMeta } from './meta-repo.ts'
import { migrate, readSchemaVersion, SCHEMA_VERSION } from './migrations/index.ts'

export const PROJECT_DIR = '.sam-annotator'
export const DB_FILE = 'project.sqlite'
/** How long a write waits for another process's write lock before failing with 'project-busy'. */
export const BUSY_TIMEOUT_MS = 10_000
/**
 * SQLite's own (blocking) wait for a lock when the caller waits asynchronously instead: a
 * lock held for a moment is taken without a timer round trip, and the thread is never held
 * longer than this per attempt.
 */
export const SHORT_BUSY_TIMEOUT_MS = 5

export type Synchronous = 'FULL' | 'NORMAL'

export interface DatabaseLocation {
  dbPath: string
  location: 'folder' | 'user-data'
  notice: string | null
}

export function defaultUserDataDir(): string {
  const xdg = process.env.XDG_DATA_HOME
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.local', 'share'), 'sam-annotator')
}

/** Stable per folder: sha256 of the real absolute path, 16 hex digits. */
export function folderKey(folder: string): string {
  return createHash('sha256').update(folder).digest('hex').slice(0, 16)
}

function isPermissionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
}

/** Can we create files in `dir` (creating it if needed)? Answers by trying, which is the only honest test. */
function canWriteIn(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true })
    const probe = join(dir, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`)
    writeFileSync(probe, '')
    unlinkSync(probe)
    return true
  } catch (err) {
    if (isPermissionError(err)) return false
    throw new UserError('project-folder', `${dir}: cannot prepare the project folder (${(err as Error).message})`, {
      cause: err,
    })
  }
}

/** Resolves the project folder to its real absolute path, refusing what is not a directory. */
export function resolveFolder(folder: string): string {
  const abs = resolve(folder)
  let real: string
  try {
    real = realpathSync(abs)
  } catch {
    throw new UserError('project-folder', `${abs}: folder not found`)
  }
  if (!statSync(real).isDirectory()) throw new UserError('project-folder', `${abs}: not a folder`)
  return real
}

/**
 * Decides where the database is. An existing database wins (in the folder first, then the
 * user-data fallback, so labels made while the folder was read-only are not orphaned when it
 * becomes writable); otherwise the folder when it is writable, else user data.
 */
export function locateDatabase(folder: string, userDataDir: string): DatabaseLocation {
  const projectDir = join(folder, PROJECT_DIR)
  const inFolder = join(projectDir, DB_FILE)
  const fallbackDir = join(resolve(userDataDir), 'projects', folderKey(folder))
  const inUserData = join(fallbackDir, DB_FILE)
  const notice = `The folder ${folder} is read-only, so this project is stored in ${inUserData}.`
  if (existsSync(inFolder)) {
    if (!canWriteIn(projectDir)) {
      throw new UserError(
        'project-read-only',
        `${inFolder}: the project database is in a folder that cannot be written; copy the image folder somewhere writable`,
      )
    }
    return { dbPath: inFolder, location: 'folder', notice: null }
  }
  if (existsSync(inUserData)) return { dbPath: inUserData, location: 'user-data', notice }
  if (canWriteIn(projectDir)) return { dbPath: inFolder, location: 'folder', notice: null }
  if (!canWriteIn(fallbackDir)) {
    throw new UserError(
      'project-read-only',
      `${folder} is read-only and ${fallbackDir} cannot be written either: nowhere to keep the project`,
    )
  }
  return { dbPath: inUserData, location: 'user-data', notice }
}

/** A file-system failure on the database file, as one line naming it. */
function fileFailure(file: string, doing: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException)?.code
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EISDIR'
        ? 'it is a folder, not a file'
        : (code ?? (err as Error)?.message ?? String(err))
  return new UserError('project-open', `${file}: cannot ${doing} the project database (${why})`, { cause: err })
}

/**
 * SQLite failures the user can act on (busy, read-only, disk full, damaged, a table missing) as
 * UserErrors naming the file; anything else is a bug and is returned as it is. `damaged` words
 * the damage: at open the file is known to be untouched, later it is not.
 */
export function sqliteFailure(file: string, err: unknown, damaged: (why: string) => UserError): unknown {
  if (err instanceof UserError) return err
  if (isCorruptionError(err)) return damaged((err as Error).message)
  const code = (err as { code?: unknown })?.code
  if (typeof code !== 'string') return err
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new UserError('project-busy', `${file}: the project is busy in another window or process; try again`, {
      cause: err,
    })
  }
  if (code.startsWith('SQLITE_READONLY'))
    return new UserError('project-read-only', `${file}: the project database cannot be written`, { cause: err })
  if (code === 'SQLITE_FULL')
    return new UserError('disk-full', `${file}: the disk is full; the change was not saved`, { cause: err })
  // openDatabase checks the schema, so later this means another program changed it meanwhile.
  const message = (err as Error)?.message ?? ''
  if (code === 'SQLITE_ERROR' && /^no such (table|column)/.test(message)) return damaged(`incomplete: ${message}`)
  return err
}

/** sqliteFailure while the database is set up (journal mode, migrations), where opening can fail too. */
function setupFailure(file: string, err: unknown): unknown {
  const mapped = sqliteFailure(file, err, (why) => corrupt(file, why, err))
  if (mapped !== err) return mapped
  const code = (err as { code?: unknown })?.code
  if (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_PERM')
  ) {
    return cannotOpen(file, err)
  }
  return err
}

/**
 * Opening a WAL database writes (its -shm index, a checkpoint), so on a full disk SQLite says
 * only "disk I/O error" or "unable to open": the free space of the database's folder tells
 * which it is, so the user reads "the disk is full" instead of a riddle.
 */
function cannotOpen(file: string, err: unknown): UserError {
  if (diskIsFull(file)) {
    return new UserError(
      'disk-full',
      `${file}: the disk is full, so the project database cannot be opened; free some space and try again`,
      { cause: err },
    )
  }
  return new UserError('project-open', `${file}: cannot open the project database (${(err as Error).message})`, {
    cause: err,
  })
}

/** Less room than SQLite needs to open a database (its -shm index alone is 32 KiB). */
function diskIsFull(file: string): boolean {
  try {
    const fs = statfsSync(dirname(file))
    return fs.bavail * fs.bsize < 64 * 1024
  } catch {
    return false
  }
}

function corrupt(file: string, why: string, cause?: unknown): UserError {
  return new UserError(
    'project-corrupt',
    `${file}: the project database is damaged (${why}); it was left untouched — restore it from a backup or move it away to start a new project`,
    { cause },
  )
}

/** True when another connection holds the lock SQLite needed (worth trying again later). */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/** True when SQLite reports a damaged or foreign file. */
export function isCorruptionError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
}

/**
 * Looks at the header bytes without SQLite, because SQLite would happily treat a short file as
 * an empty database and write over it.
 */
function checkFileHeader(file: string): void {
  const size = statSync(file).size
  const wal = `${file}-wal`
  const walHasFrames = existsSync(wal) && statSync(wal).size > 32
  if (size === 0 && !walHasFrames) return // an empty file is an empty database: nothing to lose
  const header = Buffer.alloc(100)
  let read: number
  try {
    const fd = openSync(file, 'r')
    try {
      read = readSync(fd, header, 0, 100, 0)
    } finally {
      closeSync(fd)
    }
  } catch (err) {
    throw fileFailure(file, 'read', err)
  }
  if (read < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw corrupt(file, 'not an SQLite file')
  const rawPageSize = header.readUInt16BE(16)
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw corrupt(file, `invalid page size ${rawPageSize}`)
  // With un-checkpointed WAL frames the main file may legitimately lag behind its header;
  // SQLite recovers from the WAL, and the checks after opening catch the rest.
  if (walHasFrames) return
  if (size % pageSize !== 0)
    throw corrupt(file, `size ${size} is not a whole number of ${pageSize}-byte pages: the file was truncated`)
  const pages = header.readUInt32BE(28)
  const sizeValid = pages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92)
  if (sizeValid && pages * pageSize > size) {
    throw corrupt(file, `the header says ${pages * pageSize} bytes but the file has ${size}: the file was truncated`)
  }
}

function applyPragmas(db: Database.Database, synchronous: Synchronous): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  if (mode !== 'wal')
    throw new UserError(
      'project-wal',
      `${db.name}: cannot use write-ahead logging here (journal mode stays ${String(mode)}); is the folder on a network drive?`,
    )
  db.pragma('foreign_keys = ON')
  db.pragma(`synchronous = ${synchronous}`)
}

let sqliteBinding: string | undefined

/**
 * Where better-sqlite3's compiled addon is when it is not the one in node_modules: the
 * Electron app passes its own Electron-ABI build, since node_modules keeps the Node build the
 * tests and the CLI load. Applies to databases opened from now on.
 */
export function useSqliteBinding(file: string | undefined): void {
  sqliteBinding = file
}

function connect(file: string, options: Database.Options): Database.Database {
  return new Database(file, sqliteBinding === undefined ? options : { ...options, nativeBinding: sqliteBinding })
}

/** Table name to its column names, as an open database has them. */
type SchemaShape = Map<string, Set<string>>

function schemaShape(db: Database.Database): SchemaShape {
  const rows = db
    .prepare(
      "SELECT m.name AS tbl, p.name AS col FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS p WHERE m.type = 'table' AND m.name NOT GLOB 'sqlite_*'",
    )
    .all() as { tbl: string; col: string }[]
  const shape: SchemaShape = new Map()
  for (const { tbl, col } of rows) {
    let columns = shape.get(tbl)
    if (!columns) shape.set(tbl, (columns = new Set()))
    columns.add(col)
  }
  return shape
}

const expectedShapes = new Map<number, SchemaShape>()

/**
 * The tables and columns a file of schema `version` has: built by running the migrations up to
 * it on an in-memory database, so it can never disagree with them.
 */
function expectedShape(version: number): SchemaShape {
  let shape = expectedShapes.get(version)
  if (!shape) {
    const db = connect(':memory:', {})
    try {
      migrate(db, version)
      shape = schemaShape(db)
    } finally {
      db.close()
    }
    expectedShapes.set(version, shape)
  }
  return shape
}

/**
 * Refuses a file whose schema lacks a table or column of its version (a table dropped by hand,
 * a half-copied file), which would otherwise fail later with "no such table". Extra tables
 * and columns are tolerated; indexes are not checked (a missing one costs speed, not data).
 * Read-only.
 */
function checkSchema(db: Database.Database, file: string, version: number): void {
  const actual = schemaShape(db)
  if (version === 0) {
    // A 0-byte file is an empty database that migrations initialise; tables without a version
    // mean another program's SQLite file, which migrating would write our tables into.
    if (actual.size > 0) {
      throw new UserError(
        'project-foreign',
        `${file}: not a SAM Annotator project database (it has tables ${[...actual.keys()].slice(0, 5).join(', ')} but no schema version); it was left untouched — move it away to start a new project`,
      )
    }
    return
  }
  for (const [table, columns] of expectedShape(version)) {
    const present = actual.get(table)
    if (!present) throw corrupt(file, `incomplete: table ${table} is missing`)
    for (const column of columns)
      if (!present.has(column)) throw corrupt(file, `incomplete: column ${column} of table ${table} is missing`)
  }
}

/** Builds a new database beside `file` and links it into place unless someone else was first. */
function createDatabase(file: string, folder: string): void {
  const tmp = `${file}.new-${process.pid}-${randomBytes(4).toString('hex')}`
  const db = connect(tmp, { timeout: BUSY_TIMEOUT_MS })
  try {
    applyPragmas(db, 'FULL')
    migrate(db)
    writeMeta(db, { folder, created_at: new Date().toISOString() })
  } finally {
    db.close() // the last connection checkpoints and removes the WAL: tmp is complete on its own
  }
  try {
    linkSync(tmp, file) // fails if the file exists: never replaces another process's database
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EEXIST') {
      // File systems without hard links (FAT, some network shares): rename, still checking first.
      if (!existsSync(file)) renameSync(tmp, file)
    }
  }
  try {
    unlinkSync(tmp)
  } catch {
    // already renamed into place
  }
}

export interface OpenedDatabase {
  db: Database.Database
  /** The schema version before this open; 0 for a database created now. */
  migratedFrom: number
}

/**
 * Opens (creating when absent) the project database at `file`, migrated to SCHEMA_VERSION.
 * `busyTimeoutMs`: how long SQLite blocks the thread waiting for another process's lock.
 */
export function openDatabase(
  file: string,
  folder: string,
  synchronous: Synchronous = 'FULL',
  busyTimeoutMs = BUSY_TIMEOUT_MS,
): OpenedDatabase {
  let kind: 'absent' | 'file' | 'folder' | 'other'
  try {
    const st = statSync(file)
    kind = st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other'
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileFailure(file, 'open', err)
    kind = 'absent'
  }
  if (kind === 'folder')
    throw new UserError(
      'project-open',
      `${file}: the project database is a folder, not a file; move it away to start a new project`,
    )
  if (kind === 'other')
    throw new UserError(
      'project-open',
      `${file}: the project database is not a regular file; move it away to start a new project`,
    )
  const created = kind === 'absent'
  if (created) {
    try {
      createDatabase(file, folder)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code
      // Linking or renaming it into place fails with an errno code; SQLite's start with SQLITE_.
      throw !(err instanceof UserError) && typeof code === 'string' && code.startsWith('E')
        ? fileFailure(file, 'create', err)
        : setupFailure(file, err)
    }
  }
  checkFileHeader(file)
  let db: Database.Database
  try {
    db = connect(file, { timeout: busyTimeoutMs, fileMustExist: true })
  } catch (err) {
    if (isCorruptionError(err)) throw corrupt(file, (err as Error).message, err)
    throw cannotOpen(file, err)
  }
  try {
    // Read-only checks first: nothing below writes until the file is known to be ours and sound.
    const version = readSchemaVersion(db)
    const check = db.pragma('quick_check(1)', { simple: true })
    if (check !== 'ok') throw corrupt(file, String(check))
    if (version > SCHEMA_VERSION) {
      throw new UserError(
        'project-too-new',
        `${file}: this project was written by a newer version of SAM Annotator (schema ${version}; this version knows up to ${SCHEMA_VERSION}); update the app to open it`,
      )
    }
    // user_version is any 32-bit integer; ours are 0 (empty) to SCHEMA_VERSION. A negative
    // one would look "older" and make migrate() re-run the first migration over the tables.
    if (!Number.isSafeInteger(version) || version < 0)
      throw corrupt(file, `schema version ${version} is not one SAM Annotator writes`)
    checkSchema(db, file, version)
    applyPragmas(db, synchronous)
    const { from } = migrate(db)
    return { db, migratedFrom: created ? 0 : from }
  } catch (err) {
    db.close()
    throw setupFailure(file, err)
  }
}
