// SQL for the categories table. Names are unique by their folded key (see validate.nameKey);
// `order` is a dense 0..n-1 display position kept by the store.

import type { Database, Statement } from 'better-sqlite3'
import type { Category } from './types.ts'

interface CategoryRecord {
  id: number
  name: string
  color: string
  sort_order: number
  supercategory: string | null
}

function toCategory(r: CategoryRecord): Category {
  return { id: r.id, name: r.name, color: r.color, order: r.sort_order, supercategory: r.supercategory }
}

export class CategoriesRepository {
  private readonly listStmt: Statement<[], CategoryRecord>
  private readonly byId: Statement<[number], CategoryRecord>
  private readonly byKey: Statement<[string], CategoryRecord>
  private readonly insertStmt: Statement<[string, string, string, number, string | null]>
  private readonly renameStmt: Statement<[string, string, number]>
  private readonly recolorStmt: Statement<[string, number]>
  private readonly orderStmt: Statement<[number, number]>
  private readonly deleteStmt: Statement<[number]>
  private readonly nextOrderStmt: Statement<[], { n: number }>
  private readonly usageStmt: Statement<[number], { n: number }>
  private readonly countStmt: Statement<[], { n: number }>

  constructor(db: Database) {
    const cols = 'SELECT id, name, color, sort_order, supercategory FROM categories'
    this.listStmt = db.prepare(`${cols} ORDER BY sort_order, id`)
    this.byId = db.prepare(`${cols} WHERE id = ?`)
    this.byKey = db.prepare(`${cols} WHERE name_key = ?`)
    this.insertStmt = db.prepare(
      'INSERT INTO categories (name, name_key, color, sort_order, supercategory) VALUES (?, ?, ?, ?, ?)',
    )
    this.renameStmt = db.prepare('UPDATE categories SET name = ?, name_key = ? WHERE id = ?')
    this.recolorStmt = db.prepare('UPDATE categories SET color = ? WHERE id = ?')
    this.orderStmt = db.prepare('UPDATE categories SET sort_order = ? WHERE id = ?')
    this.deleteStmt = db.prepare('DELETE FROM categories WHERE id = ?')
    this.nextOrderStmt = db.prepare('SELECT coalesce(max(sort_order) + 1, 0) AS n FROM categories')
    this.usageStmt = db.prepare('SELECT count(*) AS n FROM annotations WHERE category_id = ?')
    this.countStmt = db.prepare('SELECT count(*) AS n FROM categories')
  }

  list(): Category[] {
    return this.listStmt.all().map(toCategory)
  }

  get(id: number): Category | null {
    const r = this.byId.get(id)
    return r ? toCategory(r) : null
  }

  count(): number {
    return (this.countStmt.get() as { n: number }).n
  }

  getByKey(key: string): Category | null {
    const r = this.byKey.get(key)
    return r ? toCategory(r) : null
  }

  insert(name: string, key: string, color: string, supercategory: string | null): number {
    const order = this.nextOrderStmt.get()?.n ?? 0
    return Number(this.insertStmt.run(name, key, color, order, supercategory).lastInsertRowid)
  }

  rename(id: number, name: string, key: string): void {
    this.renameStmt.run(name, key, id)
  }

  recolor(id: number, color: string): void {
    this.recolorStmt.run(color, id)
  }

  setOrder(id: number, order: number): void {
    this.orderStmt.run(order, id)
  }

  delete(id: number): void {
    this.deleteStmt.run(id)
  }

  usage(id: number): number {
    return this.usageStmt.get(id)?.n ?? 0
  }
}
