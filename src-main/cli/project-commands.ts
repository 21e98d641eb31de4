// CLI commands over a project folder: open (create or open, rescan, summary) and annotate
// (segment one object and save it). Export and import live in coco-commands.ts.

import { parseArgs } from 'node:util'
import { UserError } from '../core/errors.ts'
import { Project, type StoredAnnotation } from '../core/project/index.ts'
import { openProjectEmbeddings, segmentCached } from '../core/embeddings/index.ts'
import { Engine } from '../core/segment/engine.ts'
import { checkPrompt, checkPromptInRegion } from '../core/segment/prompt.ts'
import { readImageHeader } from '../core/segment/preprocess.ts'
import type { Region } from '../core/segment/region.ts'
import { parseBox, parsePoint, parseCandidate, parseRegion, modelLine, type Io } from './args.ts'
import { progressBar } from './progress.ts'
import { scanSkippedLines } from '../../src-preload/contract/summaries.ts'

/** Opens (or creates) the project and brings it up to date with the folder. */
export async function openAndScan(folder: string, io: Io): Promise<Project> {
  // Blocking lock waits: the CLI has no event loop to keep responsive.
  const project = Project.open(folder, { lockWait: 'blocking' })
  if (project.notice) io.err(project.notice)
  try {
    const scan = await project.scan()
    // The same words the app shows after Rescan Folder; on stderr, so --json output stays clean.
    for (const line of scanSkippedLines(scan)) io.err(line.text)
    const bar = progressBar('reading image headers')
    try {
      await project.readPendingHeaders({ onProgress: (done, total) => bar.update(done, total) })
    } finally {
      bar.stop()
    }
    return project
  } catch (err) {
    project.close()
    throw err
  }
}

export async function openCommand(args: string[], io: Io): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } })
  if (positionals.length !== 1) throw new UserError('bad-argument', 'open: expected exactly one folder')
  const project = await openAndScan(positionals[0], io)
  try {
    const counts = project.counts()
    if (values.json) {
      io.out(
        JSON.stringify({ folder: project.folder, database: project.dbPath, location: project.location, ...counts }),
      )
      return
    }
    io.out(`project ${project.folder}`)
    io.out(`database ${project.dbPath}${project.location === 'user-data' ? ' (the folder is read-only)' : ''}`)
    io.out(`images ${counts.images} (missing ${counts.missing}, unreadable ${counts.unreadable})`)
    io.out(`annotations ${counts.annotations}`)
    for (const c of counts.perCategory) io.out(`  ${c.name}: ${c.count}`)
  } finally {
    project.close()
  }
}

function describeAnnotation(a: StoredAnnotation, category: string, image: string): string {
  const kind = Array.isArray(a.segmentation) ? `${a.segmentation.length} polygon(s)` : 'RLE (has holes)'
  return `saved annotation ${a.id} on ${image}: ${category}, ${kind}, area ${a.area} px, bbox ${a.bbox.join(',')}, score ${a.score?.toFixed(3) ?? '-'}`
}

export async function annotateCommand(args: string[], io: Io): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      image: { type: 'string' },
      category: { type: 'string' },
      point: { type: 'string', multiple: true },
      box: { type: 'string' },
      region: { type: 'string' },
      candidate: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (positionals.length !== 1) throw new UserError('bad-argument', 'annotate: expected exactly one project folder')
  if (!values.image) throw new UserError('bad-argument', 'annotate: --image <path relative to the folder> is required')
  if (!values.category?.trim()) throw new UserError('bad-argument', 'annotate: --category <name> is required')
  const points = (values.point ?? []).map(parsePoint)
  const box = values.box ? parseBox(values.box) : null
  if (points.length === 0 && !box) throw new UserError('bad-argument', 'annotate: give at least one --point or a --box')
  const candidate = parseCandidate(values.candidate)

  const project = await openAndScan(positionals[0], io)
  try {
    const relPath = values.image.replaceAll('\\', '/').replace(/^\.\//, '')
    const image = project.imageByPath(relPath)
    if (!image) throw new UserError('image-unknown', `${relPath}: not an image of the project ${project.folder}`)
    if (image.missing) throw new UserError('image-missing', `${relPath}: the file is missing from the folder`)
    if (image.error) throw new UserError('image-unreadable', `${relPath}: ${image.error}`)
    if (image.width !== null && image.height !== null) checkPrompt({ points, box }, image.width, image.height)
    let region: Region | null = null
    if (values.region !== undefined) {
      const { width, height } = await readImageHeader(project.absolutePath(image))
      region = parseRegion(values.region, width, height)
      if (region) checkPromptInRegion({ points, box }, region)
    }

    const engine = await Engine.open({ modelDir: values.model })
    const embeddings = await openProjectEmbeddings(engine, project, { prefetch: 0 })
    try {
      const result = await segmentCached(
        engine,
        embeddings,
        project.absolutePath(image),
        { points, box },
        { candidate, region },
      )
      // One transaction: a save that fails (a full disk) takes the category it created with it.
      const { category, saved } = await project.transaction((tx) => {
        const category = tx.ensureCategory(values.category!.trim())
        const saved = tx.saveAnnotation({
          imageId: image.id,
          categoryId: category.id,
          segmentation: result.segmentation,
          bbox: result.bbox,
          area: result.area,
          score: result.score,
          prompt: { points, box },
          modelId: engine.info.id,
        })
        return { category, saved }
      })
      if (!values.json || engine.info.demo) io.err(modelLine(engine.info, engine.demoFallback))
      if (values.json) {
        io.out(
          JSON.stringify({
            annotation: saved,
            category: category.name,
            image: image.path,
            candidate: result.candidate,
            region: region ? [region.x0, region.y0, region.x1, region.y1] : null,
            touchesRegionBorder: result.touchesRegionBorder,
            timings: result.timings,
            embedding: result.embedding,
          }),
        )
      } else {
        io.out(describeAnnotation(saved, category.name, image.path))
      }
    } finally {
      // close() waits for the new embedding to be written, so the next call hits the cache.
      await embeddings.close()
      await engine.close()
    }
  } finally {
    project.close()
  }
}
