// A large project made fast, for the image-list tests and bench: n tiny identical PNG files
// (hard links of a few seed files: ext4 allows 65,000 links per file) named img-000001.png
// onwards, and the project database filled as a scan plus the background header read would
// leave it. Opening it then rescans (a stat per file, nothing to read or insert), so a
// 100,000-image project is ready in seconds instead of the minute a first scan and header
// read of 100,000 files take on these machines.
import { linkSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import sharp from 'sharp'
import { Project } from '../../src-main/core/project/index.ts'
import { sampleFile } from '../../src-main/core/project/image-files.ts'
import type { ImageStatus } from '../../src-preload/contract/images.ts'

/** Links per seed file, under ext4's 65,000. */
const LINKS_PER_SEED = 50_000
export const BIG_WIDTH = 16
export const BIG_HEIGHT = 12

/** The file name of image `n` (1-based); zero-padded, so natural order is the number's. */
export function bigImageName(n: number): string {
  return `img-${String(n).padStart(6, '0')}.png`
}

/**
 * Writes `count` images into `folder` and its project database. `status(n)` gives image n's
 * status (1-based; 'new' by default).
 */
export async function writeBigProject(
  folder: string,
  count: number,
  status: (n: number) => ImageStatus = () => 'new',
): Promise<void> {
  const png = await sharp({
    create: { width: BIG_WIDTH, height: BIG_HEIGHT, channels: 3, background: { r: 120, g: 140, b: 100 } },
  })
    .png()
    .toBuffer()
  const seeds: string[] = []
  for (let k = 0; k * LINKS_PER_SEED < count; k++) {
    // Outside the folder: the seeds themselves are no images of the project.
    const seed = join(folder, '..', `seed-${k}.png`)
    writeFileSync(seed, png)
    seeds.push(seed)
  }
  for (let n = 1; n <= count; n++) linkSync(seeds[Math.floor((n - 1) / LINKS_PER_SEED)], join(folder, bigImageName(n)))
  // Every link shares its seed's inode: one size, mtime and fingerprint per seed.
  const seedFacts = await Promise.all(
    seeds.map(async (seed) => ({ mtimeMs: statSync(seed).mtimeMs, fingerprint: (await sampleFile(seed)).fingerprint })),
  )
  const project = Project.open(folder)
  const dbPath = project.dbPath
  project.close()
  const db = new Database(dbPath)
  try {
    const insert = db.prepare(`INSERT INTO images (path, sort_index, size, mtime_ms, width, height, fingerprint,
      header_read, status, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`)
    const now = new Date().toISOString()
    db.transaction(() => {
      for (let n = 1; n <= count; n++) {
        const seed = seedFacts[Math.floor((n - 1) / LINKS_PER_SEED)]
        insert.run(
          bigImageName(n),
          n - 1,
          png.length,
          seed.mtimeMs,
          BIG_WIDTH,
          BIG_HEIGHT,
          seed.fingerprint,
          status(n),
          now,
        )
      }
    })()
  } finally {
    db.close()
  }
}
