// Measures COCO export at the size: 10,000 images with 100,000 annotations, under 3 s
// and 500 MB. `benchExport()` builds a real project (real image files, scanned and read, the
// annotations saved through Project) in a temp folder, then runs the export in a fresh child
// process so the reported peak RSS is the exporter's own, not the data generator's. With
// `source: 'synthetic'` the child exports generated data instead (no database, no files).
// A section of `npm run bench`; `npx tsx bench/coco.ts` runs it alone.

import { spawnSync } from 'node:child_process'
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { Project, type ProjectTransaction } from '../src-main/core/project/project.ts'
import type { Category } from '../src-main/core/project/types.ts'
import { toCocoSegmentation } from '../src-main/core/segment/segmentation.ts'
import { exportCoco } from '../src-main/core/coco/export-coco.ts'
import { importCoco } from '../src-main/core/coco/import-coco.ts'
import { exportYolo } from '../src-main/core/coco/export-yolo.ts'
import type { SegmentationMode } from '../src-main/core/coco/geometry.ts'
import { mulberry32, randomShape, syntheticSource } from '../tests/helpers/synthetic.ts'
import { watchEventLoop } from '../tests/helpers/event-loop.ts'

export interface ExportBenchOptions {
  images?: number
  annotations?: number
  /** Modes to export, each timed in its own child process (default ['auto'], the target's). */
  modes?: SegmentationMode[]
  /** 'project' (default): a real SQLite project; 'synthetic': generated data, no database. */
  source?: 'project' | 'synthetic'
  /** Parent folder for the temp project (default the OS temp folder). */
  dir?: string
}

export interface ExportBenchResult {
  source: 'project' | 'synthetic'
  mode: SegmentationMode
  images: number
  annotations: number
  /** Building the project (files, scan, headers, saves): not part of the target. */
  setupMs: number
  exportMs: number
  /** Peak resident memory of the exporting process, MB (includes Node itself and the open project). */
  peakRssMb: number
  /** RSS of that process just before exporting, MB. */
  baseRssMb: number
  fileMb: number
}

const WIDTH = 1280
const HEIGHT = 960

interface ChildReport {
  exportMs: number
  peakRssMb: number
  baseRssMb: number
  annotations: number
}

export async function buildProject(root: string, images: number, annotations: number): Promise<void> {
  // One real PNG, written under every name: headers are read for real, files stay small.
  const png = await sharp({
    create: { width: WIDTH, height: HEIGHT, channels: 3, background: { r: 90, g: 120, b: 150 } },
  })
    .png()
    .toBuffer()
  for (let i = 0; i < images; i++) {
    const sub = join(root, `batch${Math.floor(i / 1000)}`)
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true })
    writeFileSync(join(sub, `img${i + 1}.png`), png)
  }
  const project = Project.open(root, { synchronous: 'NORMAL' })
  try {
    await project.scan()
    await project.readPendingHeaders()
    const rows = project.listImages()
    const categories: Category[] = []
    for (let i = 0; i < 8; i++) categories.push(await project.ensureCategory(`category ${i + 1}`))
    const rand = mulberry32(7)
    const pool = Array.from({ length: 997 }, (_, i) =>
      toCocoSegmentation(randomShape(rand, WIDTH, HEIGHT, i % 10 === 9), WIDTH, HEIGHT),
    )
    const save = (tx: ProjectTransaction): void => {
      for (let i = 0; i < annotations; i++) {
        const g = pool[i % pool.length]
        tx.saveAnnotation({
          imageId: rows[Math.floor((i * rows.length) / annotations)].id,
          categoryId: categories[i % categories.length].id,
          segmentation: g.segmentation,
          bbox: g.bbox,
          area: g.area,
          score: 0.9,
          prompt: { points: [{ x: 10, y: 10, label: 1 }], box: null },
          modelId: 'bench',
        })
      }
    }
    // One transaction for the whole set-up: 100,000 synchronous commits would take minutes.
    await project.transaction(save)
  } finally {
    project.close()
  }
}

/** Builds the data once, then exports it once per mode; one result per mode. */
export async function benchExport(options: ExportBenchOptions = {}): Promise<ExportBenchResult[]> {
  const images = options.images ?? 10_000
  const annotations = options.annotations ?? 100_000
  const modes = options.modes ?? ['auto']
  const source = options.source ?? 'project'
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-coco-'))
  try {
    const t = performance.now()
    if (source === 'project') await buildProject(root, images, annotations)
    const setupMs = performance.now() - t
    const results: ExportBenchResult[] = []
    for (const mode of modes) {
      const out = join(root, `export-${mode}.json`)
      const child = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          'child',
          source,
          root,
          out,
          mode,
          String(images),
          String(annotations),
        ],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      )
      if (child.status !== 0) throw new Error(`export child failed (${child.status}): ${child.stderr}`)
      const report = JSON.parse(child.stdout.trim().split('\n').pop() as string) as ChildReport
      results.push({
        source,
        mode,
        images,
        annotations: report.annotations,
        setupMs,
        exportMs: report.exportMs,
        peakRssMb: report.peakRssMb,
        baseRssMb: report.baseRssMb,
        fileMb: statSync(out).size / 1e6,
      })
    }
    return results
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

export interface ImportBenchResult {
  categories: number
  annotations: number
  importMs: number
  /** The longest the event loop went without running a timer during the import (what a window would feel). */
  maxStallMs: number
}

/**
 * Imports one generated COCO file into a fresh project of one 1280x960 image: `categories`
 * categories (all new) and `annotations` distinct rectangles. Times the whole import and the
 * longest event-loop stall, seen by a 1 ms interval timer, as the app's main process would.
 */
export async function benchImport(
  categories: number,
  annotations: number,
  options: { dir?: string } = {},
): Promise<ImportBenchResult> {
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-import-'))
  try {
    const png = await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: '#5a7896' } })
      .png()
      .toBuffer()
    writeFileSync(join(root, 'img.png'), png)
    const file = join(root, 'in.json')
    writeFileSync(
      file,
      JSON.stringify({
        images: [{ id: 1, file_name: 'img.png', width: WIDTH, height: HEIGHT }],
        categories: Array.from({ length: categories }, (_, i) => ({ id: i + 1, name: `kind ${i + 1}` })),
        annotations: Array.from({ length: annotations }, (_, i) => {
          const x = i % 1000
          const y = Math.floor(i / 1000) % 700
          return {
            id: i + 1,
            image_id: 1,
            category_id: (i % categories) + 1,
            segmentation: [[x, y, x + 250, y, x + 250, y + 240, x, y + 240]],
            area: 0,
            bbox: [0, 0, 0, 0],
          }
        }),
      }),
    )
    const project = Project.open(root, { synchronous: 'NORMAL' })
    try {
      await project.scan()
      await project.readPendingHeaders()
      const watched = await watchEventLoop(() => importCoco(project, file), 1)
      return { categories, annotations, importMs: watched.tookMs, maxStallMs: watched.maxGapMs }
    } finally {
      project.close()
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

export interface ScaleBenchResult {
  images: number
  annotations: number
  fileMb: number
  /** Building the project and writing the file: not part of the targets. */
  setupMs: number
  /** One row per step, each in its own child process (peak RSS is that process's own). */
  steps: {
    step: 'import --coco' | 'export --coco' | 'export --yolo'
    ms: number
    peakRssMb: number
    maxStallMs: number
  }[]
}

/**
 * Writes a COCO file of `annotations` compact polygons (16 vertices, ~300 bytes an entry) over
 * `images` images, a slice at a time: the bench never holds the file either.
 */
export function writeCompactCoco(
  file: string,
  images: number,
  annotations: number,
  width: number,
  height: number,
): void {
  const fd = openSync(file, 'w')
  try {
    const rand = mulberry32(11)
    const out = (text: string) => writeSync(fd, text)
    out('{"info": {"description": "bench"},\n"images": [\n')
    const list: string[] = []
    for (let i = 0; i < images; i++)
      list.push(
        `{"id":${i + 1},"file_name":"batch${Math.floor(i / 1000)}/img${i + 1}.png","width":${width},"height":${height}}`,
      )
    out(`${list.join(',\n')}\n],\n"categories": [\n`)
    out(
      `${Array.from({ length: 8 }, (_, i) => `{"id":${i + 1},"name":"category ${i + 1}"}`).join(',\n')}\n],\n"annotations": [\n`,
    )
    let batch: string[] = []
    for (let i = 0; i < annotations; i++) {
      const cx = 40 + rand() * (width - 80)
      const cy = 40 + rand() * (height - 80)
      const r = 8 + rand() * 25
      const ring: string[] = []
      for (let k = 0; k < 16; k++) {
        const a = (k / 16) * 2 * Math.PI
        const rr = r * (0.7 + 0.3 * rand())
        ring.push((cx + rr * Math.cos(a)).toFixed(2), (cy + rr * Math.sin(a)).toFixed(2))
      }
      batch.push(
        `{"id":${i + 1},"image_id":${1 + Math.floor((i * images) / annotations)},"category_id":${1 + (i % 8)},"segmentation":[[${ring.join(',')}]],"area":${Math.round(Math.PI * r * r)},"bbox":[${(cx - r).toFixed(2)},${(cy - r).toFixed(2)},${(2 * r).toFixed(2)},${(2 * r).toFixed(2)}],"iscrowd":0}`,
      )
      if (batch.length === 10_000 || i === annotations - 1) {
        out(`${batch.join(',\n')}${i === annotations - 1 ? '\n' : ',\n'}`)
        batch = []
      }
    }
    out(']}\n')
  } finally {
    closeSync(fd)
  }
}

/**
 * The dataset-scale case: a COCO file of 1,000,000 annotations (200+ MB) imported into a project
 * of 10,000 real images, then exported as COCO and as YOLO; each step in its own process, with its
 * peak RSS and the longest event-loop stall it caused.
 */
export async function benchScale(
  options: { images?: number; annotations?: number; dir?: string } = {},
): Promise<ScaleBenchResult> {
  const images = options.images ?? 10_000
  const annotations = options.annotations ?? 1_000_000
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'sam-bench-scale-'))
  try {
    const t = performance.now()
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#5a7896' } })
      .png()
      .toBuffer()
    const folder = join(root, 'images')
    for (let i = 0; i < images; i++) {
      const sub = join(folder, `batch${Math.floor(i / 1000)}`)
      if (i % 1000 === 0) mkdirSync(sub, { recursive: true })
      writeFileSync(join(sub, `img${i + 1}.png`), png)
    }
    const file = join(root, 'in.json')
    writeCompactCoco(file, images, annotations, 640, 480)
    const project = Project.open(folder, { synchronous: 'NORMAL' })
    try {
      await project.scan()
      await project.readPendingHeaders()
    } finally {
      project.close()
    }
    const setupMs = performance.now() - t
    const steps: ScaleBenchResult['steps'] = []
    for (const [step, target] of [
      ['import --coco', file],
      ['export --coco', join(root, 'out.json')],
      ['export --yolo', join(root, 'yolo')],
    ] as const) {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), 'scale-child', step, folder, target],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      )
      if (child.status !== 0) throw new Error(`${step} child failed (${child.status}): ${child.stderr}`)
      const report = JSON.parse(child.stdout.trim().split('\n').pop() as string) as {
        ms: number
        peakRssMb: number
        maxStallMs: number
        count: number
      }
      if (report.count !== annotations)
        throw new Error(`bench: ${step} handled ${report.count} of ${annotations} annotations`)
      steps.push({ step, ms: report.ms, peakRssMb: report.peakRssMb, maxStallMs: report.maxStallMs })
    }
    return { images, annotations, fileMb: statSync(file).size / 1e6, setupMs, steps }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

async function scaleChild(step: string, folder: string, target: string): Promise<void> {
  const project = Project.open(folder, { synchronous: 'NORMAL' })
  const watched = await watchEventLoop(async () => {
    if (step === 'import --coco') return (await importCoco(project, target)).imported
    if (step === 'export --coco') return (await exportCoco(project, target)).annotations
    return (await exportYolo(project, target, { imagesFolder: project.folder })).annotations
  }, 1)
  const { value: count, tookMs: ms, maxGapMs: maxStallMs } = watched
  project.close()
  process.stdout.write(`${JSON.stringify({ ms, peakRssMb: peakRssMb(), maxStallMs, count })}\n`)
}

/**
 * This process's own peak resident size, MB. Linux carries getrusage's maxrss across fork and
 * exec, so a child of a bench that already ran the engine would report the parent's peak;
 * /proc's VmHWM belongs to this process image alone.
 */
function peakRssMb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (hwm !== null) return Number(hwm[1]) / 1024
  } catch {
    // not Linux: getrusage is the best there is
  }
  return process.resourceUsage().maxRSS / 1024
}

async function child(args: string[]): Promise<void> {
  const [source, root, out, mode, images, annotations] = args
  const project = source === 'project' ? Project.open(root) : null
  const from =
    project ??
    syntheticSource({ images: Number(images), annotations: Number(annotations), width: WIDTH, height: HEIGHT })
  const baseRssMb = process.memoryUsage().rss / 1e6
  const t = performance.now()
  const result = await exportCoco(from, out, { segmentation: mode as SegmentationMode })
  const exportMs = performance.now() - t
  project?.close()
  const report: ChildReport = { exportMs, peakRssMb: peakRssMb(), baseRssMb, annotations: result.annotations }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'child') {
    await child(process.argv.slice(3))
  } else if (process.argv[2] === 'scale-child') {
    await scaleChild(process.argv[3], process.argv[4], process.argv[5])
  } else if (process.argv[2] === 'scale') {
    const r = await benchScale({ annotations: Number(process.argv[3] ?? 1_000_000) })
    console.log(JSON.stringify(r))
  } else {
    const source = process.argv.includes('--synthetic') ? 'synthetic' : 'project'
    for (const r of await benchExport({ source, modes: ['auto', 'rle', 'polygon'] })) {
      console.log(
        `coco export (${r.source}, ${r.mode}): ${r.images} images, ${r.annotations} annotations in ${(r.exportMs / 1000).toFixed(2)} s, ` +
          `peak RSS ${r.peakRssMb.toFixed(0)} MB (${r.baseRssMb.toFixed(0)} MB before), file ${r.fileMb.toFixed(1)} MB, set-up ${(r.setupMs / 1000).toFixed(1)} s`,
      )
    }
  }
}
