// SQL for staging an import. Rows are collected in TEMP tables of the project's own connection,
// which take no lock on the project file while they fill (an import may take its time, yielding
// between batches, and the app keeps saving meanwhile), then moved into the project's tables by
// a few set-based statements inside one short transaction. Categories are matched by name_key,
// the UNIQUE index, never by listing them: one statement for any number of categories.

import type { Database, Statement } from 'better-sqlite3'
import { annotationValues, type AnnotationValues } from './annotations-repo.ts'
import type { AnnotationInput } from './types.ts'

/** Names the TEMP tables of one staging, unique within the connection. */
let staged = 0

export class ImportRepository {
  private readonly category: string
  private readonly annotation: string
  private readonly addCategoryStmt: Statement<[number, string, string, string | null]>
  private readonly addAnnotationStmt: Statement<AnnotationValues>
  private readonly missingStmt: Statement<[], { name: string }>
  private readonly countsStmt: Statement<[], { count: number; next: number }>
  private readonly insertCategoriesStmt: Statement<[{ palette: string; count: number; next: number }]>
  private readonly insertAnnotationsStmt: Statement<[{ now: string }]>
  private readonly promoteStmt: Statement<[]>

  constructor(private readonly db: Database) {
    const name = `import_${++staged}`
    this.category = `temp.${name}_category`
    this.annotation = `temp.${name}_annotation`
    // `position`: the staging's own number for a category (its id is known only at commit).
    db.exec(`
      CREATE TEMP TABLE ${name}_category (
        position      INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        name_key      TEXT NOT NULL UNIQUE,
        supercategory TEXT
      );
      CREATE TEMP TABLE ${name}_annotation (
        image_id INTEGER NOT NULL, category INTEGER NOT NULL, segmentation TEXT NOT NULL,
        bbox_x REAL NOT NULL, bbox_y REAL NOT NULL, bbox_w REAL NOT NULL, bbox_h REAL NOT NULL,
        area REAL NOT NULL, score REAL, prompt TEXT, model_id TEXT
      );
    `)
    this.addCategoryStmt = db.prepare(
      `INSERT INTO ${this.category} (position, name, name_key, supercategory) VALUES (?, ?, ?, ?)`,
    )
    this.addAnnotationStmt = db.prepare(`INSERT INTO ${this.annotation} (image_id, category, segmentation, bbox_x,
      bbox_y, bbox_w, bbox_h, area, score, prompt, model_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    const absent = `FROM ${this.category} s WHERE NOT EXISTS (SELECT 1 FROM main.categories c WHERE c.name_key = s.name_key)`
    this.missingStmt = db.prepare(`SELECT s.name AS name ${absent} ORDER BY s.position`)
    this.countsStmt = db.prepare(
      'SELECT count(*) AS count, coalesce(max(sort_order) + 1, 0) AS next FROM main.categories',
    )
    // Colours cycle through the palette (a JSON array) in creation order, as createCategory's do.
    this.insertCategoriesStmt =
      db.prepare(`INSERT INTO main.categories (name, name_key, color, sort_order, supercategory)
      SELECT name, name_key, json_extract(@palette, '$[' || ((CAST(@count AS INTEGER) + n) % json_array_length(@palette)) || ']'),
        CAST(@next AS INTEGER) + n,
        supercategory
      FROM (SELECT s.name, s.name_key, s.supercategory, row_number() OVER (ORDER BY s.position) - 1 AS n ${absent})
      ORDER BY n`)
    this.insertAnnotationsStmt = db.prepare(`INSERT INTO main.annotations (image_id, category_id, segmentation, bbox_x,
      bbox_y, bbox_w, bbox_h, area, score, prompt, model_id, created_at, updated_at)
      SELECT a.image_id, c.id, a.segmentation, a.bbox_x, a.bbox_y, a.bbox_w, a.bbox_h, a.area, a.score, a.prompt,
        a.model_id, @now, @now
      FROM ${this.annotation} a JOIN ${this.category} s ON s.position = a.category
        JOIN main.categories c ON c.name_key = s.name_key
      ORDER BY a.rowid`)
    this.promoteStmt = db.prepare(
      `UPDATE main.images SET status = 'in_progress' WHERE status = 'new' AND id IN (SELECT image_id FROM ${this.annotation})`,
    )
  }

  addCategory(position: number, name: string, key: string, supercategory: string | null): void {
    this.addCategoryStmt.run(position, name, key, supercategory)
  }

  /** `categoryId` of each is a position given to addCategory. */
  addAnnotations(list: readonly AnnotationInput[]): void {
    for (const a of list) this.addAnnotationStmt.run(...annotationValues(a))
  }

  /** Inside the commit's transaction: names of the staged categories the project lacks, in staging order. */
  missingCategories(): string[] {
    return this.missingStmt.all().map((r) => r.name)
  }

  /** Inside the commit's transaction: creates the missing categories, coloured from `palette` in creation order. */
  insertCategories(palette: readonly string[]): void {
    const { count, next } = this.countsStmt.get() as { count: number; next: number }
    this.insertCategoriesStmt.run({ palette: JSON.stringify(palette), count, next })
  }

  /** Inside the commit's transaction, after insertCategories: every staged annotation, in staging order. Returns how many. */
  insertAnnotations(now: string): number {
    const inserted = this.insertAnnotationsStmt.run({ now }).changes
    this.promoteStmt.run()
    return inserted
  }

  /** Drops the TEMP tables (outside any transaction). */
  drop(): void {
    this.db.exec(`DROP TABLE IF EXISTS ${this.annotation}; DROP TABLE IF EXISTS ${this.category};`)
  }
}
