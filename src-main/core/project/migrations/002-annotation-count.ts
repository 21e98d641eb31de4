// Schema version 2: each image row keeps its number of annotations (images.annotation_count),
// maintained by triggers on annotations.
//
// Why: version 1 counted an image's annotations with a correlated count(*) each time the row
// was read, and every save reads its image row, so saving onto an image cost time in
// proportion to what the image already held (bulk imports onto one image were quadratic).
// Triggers rather than code in the store: every writer (a delete by category, an import, a
// second process, a hand-run SQL fix) keeps the count right, and a rolled-back transaction
// takes its count changes with it.

import type { Database } from 'better-sqlite3'

export const version = 2
export const name = 'annotation-count'

export function up(db: Database): void {
  db.exec(`
    ALTER TABLE images ADD COLUMN annotation_count INTEGER NOT NULL DEFAULT 0 CHECK (annotation_count >= 0);
    UPDATE images SET annotation_count = (SELECT count(*) FROM annotations a WHERE a.image_id = images.id);

    CREATE TRIGGER annotations_count_insert AFTER INSERT ON annotations BEGIN
      UPDATE images SET annotation_count = annotation_count + 1 WHERE id = NEW.image_id;
    END;
    CREATE TRIGGER annotations_count_delete AFTER DELETE ON annotations BEGIN
      UPDATE images SET annotation_count = annotation_count - 1 WHERE id = OLD.image_id;
    END;
    CREATE TRIGGER annotations_count_move AFTER UPDATE OF image_id ON annotations
      WHEN NEW.image_id IS NOT OLD.image_id BEGIN
      UPDATE images SET annotation_count = annotation_count - 1 WHERE id = OLD.image_id;
      UPDATE images SET annotation_count = annotation_count + 1 WHERE id = NEW.image_id;
    END;
  `)
}
