// Measures how fast a folder becomes a project: `benchScan(n)` writes n small real images
// (PNG and JPEG, some with EXIF orientation) into a temp folder, then times the first scan,
// readPendingHeaders, a rescan with nothing changed, and single annotation saves with
// synchronous FULL versus NORMAL. `benchBulkImport(counts)` imports COCO files of that many
// annotations onto a single image, to show a save costs the same whatever the image holds.
// A section of `npm run bench`.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { importCoco } from '../src-main/core/coco/import-coco.ts'
import { Project } from '../src-main/core/project/project.ts'
import { watchEventLoop } from '../tests/helpers/event-loop.ts'

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

export interface ScanScaleBench {
  images: number
  /** First scan of the folder (walk, stat, insert, order). */
  scanMs: number
  scanStallMs: number
  /** The same folder again, nothing changed. */
  rescanMs: number
  rescanStallMs: number
  /** Heap in use after the scans, MB (a rough bound on what a project of this size holds). */
  heapMb: number
}

/** Runs `work` under a 1 ms timer; the longest gap between its ticks is the longest stall. */
async function stalls<T>(work: () => Promise<T>): Promise<{ ms: number; stallMs: number }> {
  const { tookMs, maxGapMs } = await watchEventLoop(work, 1)
  return { ms: tookMs, stallMs: maxGapMs }
}

/**
 * Opening a folder of `n` tiny images (100 sub-folders): the first scan, then a rescan with
 * nothing changed, each with the longest event-loop stall it caused. Headers are not read (that
 * is readPendingHeaders, in the background).
 */
export async function benchScanScale(n: number, options: { dir?: string } = {}): Promise<ScanScaleBench> {
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-scan-scale-'))
  try {
    const [seed] = await seedImages(1)
    for (let i = 0; i < 100; i++) mkdirSync(join(root, `set${i}`))
    for (let i = 0; i < n; i++) writeFileSync(join(root, `set${i % 100}`, `img${i}.png`), seed)
    const project = Project.open(root, { synchronous: 'NORMAL' })
    try {
      const first = await stalls(() => project.scan())
      const again = await stalls(() => project.scan())
      if (project.counts().images !== n) throw new Error(`bench: ${project.counts().images} of ${n} images listed`)
      return {
        images: n,
        scanMs: first.ms,
        scanStallMs: first.stallMs,
        rescanMs: again.ms,
        rescanStallMs: again.stallMs,
        heapMb: process.memoryUsage().heapUsed / 1e6,
      }
    } finally {
      project.close()
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

export interface BulkImportBench {
  /** Annotations imported onto the one image. */
  annotations: number
  importMs: number
  /** Median of one saveAnnotation onto the image afterwards (it holds `annotations` then). */
  saveAfterMs: number
}

/** A COCO file of `n` distinct small squares on one 640x480 image. */
function cocoOnOneImage(n: number): string {
  const annotations = Array.from({ length: n }, (_, i) => {
    const x = (i % 600) + 1
    const y = Math.floor(i / 600) % 440
    const w = 5 + Math.floor(i / 264_000)
    return {
      id: i + 1,
      image_id: 1,
      category_id: 1,
      segmentation: [[x, y, x + w, y, x + w, y + w, x, y + w]],
      bbox: [x, y, w, w],
      area: w * w,
      iscrowd: 0,
    }
  })
  return JSON.stringify({
    images: [{ id: 1, file_name: 'one.png', width: 640, height: 480 }],
    categories: [{ id: 1, name: 'bench' }],
    annotations,
  })
}

/**
 * For each count: a fresh project with one 640x480 image, a COCO file of that many annotations
 * on it imported (one transaction, as the CLI and the app import), then single saves onto the
 * now full image. Before the image's count was stored, each save counted the image's
 * annotations, so the import was quadratic.
 */
export async function benchBulkImport(
  counts: readonly number[],
  options: { saves?: number; dir?: string } = {},
): Promise<BulkImportBench[]> {
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-bulk-'))
  try {
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .png()
      .toBuffer()
    const results: BulkImportBench[] = []
    for (const n of counts) {
      const folder = join(root, `n${n}`)
      mkdirSync(folder)
      writeFileSync(join(folder, 'one.png'), png)
      const file = join(root, `coco-${n}.json`)
      writeFileSync(file, cocoOnOneImage(n))
      const project = Project.open(folder)
      try {
        await project.scan()
        await project.readPendingHeaders()
        const t = performance.now()
        const result = await importCoco(project, file)
        const importMs = performance.now() - t
        if (result.imported !== n) throw new Error(`bench: imported ${result.imported} of ${n} annotations`)
        results.push({ annotations: n, importMs, saveAfterMs: await timeSaves(project, options.saves ?? 50) })
      } finally {
        project.close()
      }
    }
    return results
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
