// Measures how fast a folder becomes a project: `benchScan(n)` writes n small real images
// (PNG and JPEG, some with EXIF orientation) into a temp folder, then times the first scan,
// readPendingHeaders, a rescan with nothing changed, and single annotation saves with
// synchronous FULL versus NORMAL. A section of `npm run bench`.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { Project } from '../src-main/core/project/project.ts'

export interface ScanBench {
  images: number
  scanMs: number
  readHeadersMs: number
  rescanMs: number
  /** Median of one saveAnnotation (one transaction, committed) with synchronous=FULL and NORMAL. */
  saveFullMs: number
  saveNormalMs: number
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function seedImages(n: number): Promise<Buffer[]> {
  const tiny = (r: number, g: number) =>
    sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b: 90 } } })
  return [
    await tiny(200, 30).png().toBuffer(),
    await tiny(30, 200).jpeg({ quality: 80 }).toBuffer(),
    await tiny(90, 90).jpeg({ quality: 80 }).withMetadata({ orientation: 6 }).toBuffer(),
  ].slice(0, Math.max(1, Math.min(3, n)))
}

async function timeSaves(project: Project, runs: number): Promise<number> {
  const image = project.listImages({ limit: 1 })[0]
  const category = await project.ensureCategory('bench')
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await project.saveAnnotation({
      imageId: image.id,
      categoryId: category.id,
      segmentation: [[1, 1, 20, 1, 20, 20, 1, 20]],
      bbox: [1, 1, 19, 19],
      area: 361,
      score: 0.9,
      prompt: { points: [{ x: 10, y: 10, label: 1 }] },
      modelId: 'bench',
    })
    times.push(performance.now() - t)
  }
  return median(times)
}

export async function benchScan(n: number, options: { saves?: number; dir?: string } = {}): Promise<ScanBench> {
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-scan-'))
  try {
    const seeds = await seedImages(n)
    const exts = ['png', 'jpg', 'jpg']
    for (let i = 0; i < n; i++) {
      const k = i % seeds.length
      // Spread over sub-folders, as real datasets are, to exercise the recursive walk.
      const sub = join(root, `set${i % 10}`)
      if (i < 10) mkdirSync(sub, { recursive: true })
      writeFileSync(join(sub, `img${i}.${exts[k]}`), seeds[k])
    }
    let project = Project.open(root)
    let t = performance.now()
    await project.scan()
    const scanMs = performance.now() - t
    t = performance.now()
    await project.readPendingHeaders()
    const readHeadersMs = performance.now() - t
    t = performance.now()
    await project.scan()
    const rescanMs = performance.now() - t
    const saves = options.saves ?? 50
    const saveFullMs = await timeSaves(project, saves)
    project.close()
    project = Project.open(root, { synchronous: 'NORMAL' })
    const saveNormalMs = await timeSaves(project, saves)
    project.close()
    return { images: n, scanMs, readHeadersMs, rescanMs, saveFullMs, saveNormalMs }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
