// SQL for the annotations table. Segmentation and prompt are stored as JSON text; everything
// read back is parsed into the public StoredAnnotation shape here.

import type { Database, Statement } from 'better-sqlite3'
import type { StoredAnnotation, AnnotationGeometry, AnnotationInput, PromptRecord, Segmentation } from './types.ts'

interface AnnotationRecord {
  id: number
  image_id: number
  category_id: number
  segmentation: string
  bbox_x: number
  bbox_y: number
  bbox_w: number
  bbox_h: number
  area: number
  score: number | null
  prompt: string | null
  model_id: string | null
  created_at: string
  updated_at: string
}

function toAnnotation(r: AnnotationRecord): StoredAnnotation {
  return {
    id: r.id,
    imageId: r.image_id,
    categoryId: r.category_id,
    segmentation: JSON.parse(r.segmentation) as Segmentation,
    bbox: [r.bbox_x, r.bbox_y, r.bbox_w, r.bbox_h],
    area: r.area,
    score: r.score,
    prompt: r.prompt === null ? null : (JSON.parse(r.prompt) as PromptRecord),
    modelId: r.model_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

type GeometryRecord = Pick<
  AnnotationRecord,
  'id' | 'image_id' | 'category_id' | 'segmentation' | 'bbox_x' | 'bbox_y' | 'bbox_w' | 'bbox_h' | 'area'
>

export type AnnotationValues = [
  number,
  number,
  string,
  number,
  number,
  number,
  number,
  number,
  number | null,
  string | null,
  string | null,
]

/** An annotation's column values, image_id through model_id, as stored. */
export function annotationValues(a: AnnotationInput): AnnotationValues {
  return [
    a.imageId,
    a.categoryId,
    JSON.stringify(a.segmentation),
    a.bbox[0],
    a.bbox[1],
    a.bbox[2],
    a.bbox[3],
    a.area,
    a.score,
    a.prompt === null ? null : JSON.stringify(a.prompt),
    a.modelId,
  ]
}

function toGeometry(r: GeometryRecord): AnnotationGeometry {
  return {
    id: r.id,
    imageId: r.image_id,
    categoryId: r.category_id,
    segmentation: JSON.parse(r.segmentation) as Segmentation,
    segmentationJson: r.segmentation,
    bbox: [r.bbox_x, r.bbox_y, r.bbox_w, r.bbox_h],
    area: r.area,
  }
}

const COLUMNS =
  'id, image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h, area, score, prompt, model_id, created_at, updated_at'

export class AnnotationsRepository {
  private readonly insertStmt: Statement<[...AnnotationValues, string, string]>
  private readonly updateStmt: Statement<[...AnnotationValues, string, number]>
  private readonly deleteStmt: Statement<[number]>
  private readonly deleteByCategoryStmt: Statement<[number]>
  private readonly imagesOfCategoryStmt: Statement<[number], { image_id: number }>
  private readonly byId: Statement<[number], AnnotationRecord>
  private readonly byImage: Statement<[number], AnnotationRecord>
  private readonly pageStmt: Statement<[number, number], AnnotationRecord>
  private readonly geometryPageStmt: Statement<[number, number], GeometryRecord>
  private readonly geometryByImageStmt: Statement<[number], GeometryRecord>
  private readonly countStmt: Statement<[], { n: number }>
  private readonly perCategoryStmt: Statement<[], { name: string; count: number }>

  constructor(db: Database) {
    this.insertStmt =
      db.prepare(`INSERT INTO annotations (image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h,
      area, score, prompt, model_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.updateStmt =
      db.prepare(`UPDATE annotations SET image_id = ?, category_id = ?, segmentation = ?, bbox_x = ?, bbox_y = ?,
      bbox_w = ?, bbox_h = ?, area = ?, score = ?, prompt = ?, model_id = ?, updated_at = ? WHERE id = ?`)
    this.deleteStmt = db.prepare('DELETE FROM annotations WHERE id = ?')
    this.deleteByCategoryStmt = db.prepare('DELETE FROM annotations WHERE category_id = ?')
    this.imagesOfCategoryStmt = db.prepare('SELECT DISTINCT image_id FROM annotations WHERE category_id = ?')
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM annotations WHERE id = ?`)
    this.byImage = db.prepare(`SELECT ${COLUMNS} FROM annotations WHERE image_id = ? ORDER BY id`)
    this.pageStmt = db.prepare(`SELECT ${COLUMNS} FROM annotations WHERE id > ? ORDER BY id LIMIT ?`)
    this.geometryPageStmt = db.prepare(
      'SELECT id, image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h, area FROM annotations WHERE id > ? ORDER BY id LIMIT ?',
    )
    this.geometryByImageStmt = db.prepare(
      'SELECT id, image_id, category_id, segmentation, bbox_x, bbox_y, bbox_w, bbox_h, area FROM annotations WHERE image_id = ? ORDER BY id',
    )
    this.countStmt = db.prepare('SELECT count(*) AS n FROM annotations')
    this.perCategoryStmt = db.prepare(`SELECT c.name AS name, count(a.id) AS count FROM categories c
      LEFT JOIN annotations a ON a.category_id = c.id GROUP BY c.id ORDER BY c.sort_order, c.id`)
  }

  insert(a: AnnotationInput, now: string): number {
    return Number(this.insertStmt.run(...annotationValues(a), now, now).lastInsertRowid)
  }

  update(id: number, a: AnnotationInput, now: string): void {
    this.updateStmt.run(...annotationValues(a), now, id)
  }

  delete(id: number): boolean {
    return this.deleteStmt.run(id).changes > 0
  }

  /** Ids of the images with an annotation of the category. */
  imagesOf(categoryId: number): number[] {
    return this.imagesOfCategoryStmt.all(categoryId).map((r) => r.image_id)
  }

  deleteByCategory(categoryId: number): number {
    return this.deleteByCategoryStmt.run(categoryId).changes
  }

  get(id: number): StoredAnnotation | null {
    const r = this.byId.get(id)
    return r ? toAnnotation(r) : null
  }

  listForImage(imageId: number): StoredAnnotation[] {
    return this.byImage.all(imageId).map(toAnnotation)
  }

  /**
   * Streams every annotation in id order, a page at a time (keyset on id), so memory stays flat
   * for any count. Pages rather than one open cursor: an open better-sqlite3 cursor makes the
   * connection refuse every other statement, and an exporter needs to look up images meanwhile.
   */
  *iterate(pageSize = 1000): IterableIterator<StoredAnnotation> {
    let after = 0
    for (;;) {
      const page = this.pageStmt.all(after, pageSize)
      for (const r of page) yield toAnnotation(r)
      if (page.length < pageSize) return
      after = page[page.length - 1].id
    }
  }

  /**
   * Like `iterate`, but only what an export writes: skipping the prompt, model and time columns
   * (and the prompt's JSON parse) takes a third off exporting 100,000 annotations.
   */
  *iterateGeometry(pageSize = 1000): IterableIterator<AnnotationGeometry> {
    let after = 0
    for (;;) {
      const page = this.geometryPageStmt.all(after, pageSize)
      for (const r of page) yield toGeometry(r)
      if (page.length < pageSize) return
      after = page[page.length - 1].id
    }
  }

  /** One image's annotations in id order, only what an export writes (see iterateGeometry). */
  geometryForImage(imageId: number): AnnotationGeometry[] {
    return this.geometryByImageStmt.all(imageId).map(toGeometry)
  }

  count(): number {
    return this.countStmt.get()?.n ?? 0
  }

  perCategory(): { name: string; count: number }[] {
    return this.perCategoryStmt.all()
  }
}
