// Schema version 1: images, categories, annotations, and a small key/value table for facts
// about the project itself (the folder it belongs to, when it was created).
//
// Why these choices:
// - AUTOINCREMENT on every table: an id is never reused after a delete, so the ids COCO export
//   writes stay stable across exports and a re-imported file cannot point at the wrong row.
// - images.sort_index holds the natural order ("img2" before "img10"), computed in JS with
//   Intl.Collator at scan time, because SQLite has no natural collation.
// - categories.name_key is the case-folded name: uniqueness "case-insensitively" for any
//   script, which COLLATE NOCASE (ASCII only) would not give.
// - Segmentation and prompt are JSON text; bbox is four columns so it can be queried.
// - STRICT tables and CHECK constraints: the database refuses bad values even if a future
//   caller skips the validation in Project.

import type { Database } from 'better-sqlite3'

export const version = 1
export const name = 'initial'

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE project_meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE images (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      path        TEXT    NOT NULL UNIQUE,
      sort_index  INTEGER NOT NULL DEFAULT 0,
      size        INTEGER NOT NULL,
      mtime_ms    REAL    NOT NULL,
      width       INTEGER,
      height      INTEGER,
      fingerprint TEXT,
      header_read INTEGER NOT NULL DEFAULT 0 CHECK (header_read IN (0, 1)),
      error       TEXT,
      status      TEXT    NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'done', 'skipped')),
      missing     INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
      added_at    TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX images_sort ON images (sort_index);
    CREATE INDEX images_fingerprint ON images (fingerprint) WHERE fingerprint IS NOT NULL;
    CREATE INDEX images_pending ON images (id) WHERE header_read = 0;

    CREATE TABLE categories (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      name          TEXT    NOT NULL CHECK (length(name) > 0),
      name_key      TEXT    NOT NULL UNIQUE,
      color         TEXT    NOT NULL CHECK (length(color) = 7 AND color GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
      sort_order    INTEGER NOT NULL,
      supercategory TEXT
    ) STRICT;

    CREATE TABLE annotations (
      id           INTEGER PRIMARY KEY AUTOINCREMENT,
      image_id     INTEGER NOT NULL REFERENCES images (id),
      category_id  INTEGER NOT NULL REFERENCES categories (id),
      segmentation TEXT    NOT NULL,
      bbox_x       REAL    NOT NULL,
      bbox_y       REAL    NOT NULL,
      bbox_w       REAL    NOT NULL CHECK (bbox_w >= 0),
      bbox_h       REAL    NOT NULL CHECK (bbox_h >= 0),
      area         REAL    NOT NULL CHECK (area >= 0),
      score        REAL,
      prompt       TEXT,
      model_id     TEXT,
      created_at   TEXT    NOT NULL,
      updated_at   TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX annotations_image ON annotations (image_id);
    CREATE INDEX annotations_category ON annotations (category_id);
  `)
}
