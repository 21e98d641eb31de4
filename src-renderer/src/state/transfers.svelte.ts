// Export and import: COCO and YOLO out, COCO in. Main asks the user where (native dialogs) and
// reports progress as `progress` events; this shows the progress and then what was written or
// read (an import in the CLI's own words, `importSummaryLines`).
import type { ExportSummary } from '../../../src-preload/contract/index.ts'
import { importSummaryLines, type SummaryLine } from '../../../src-preload/contract/summaries.ts'
import type { Editor } from './editor.svelte.ts'

export class Transfers {
  exportProgress = $state.raw<{ done: number; total: number } | null>(null)
  exportResult = $state<string | null>(null)
  importProgress = $state.raw<{ done: number; total: number } | null>(null)
  /** What the last import did, line by line, as the CLI prints it after `import --coco`. */
  importResult = $state.raw<SummaryLine[] | null>(null)

  constructor(private readonly editor: Editor) {}

  /** Per project: the last project's progress and results are not this one's. */
  reset(): void {
    this.exportProgress = null
    this.exportResult = null
    this.importProgress = null
    this.importResult = null
  }

  /** A `progress` event from main. */
  progress(task: string, done: number, total: number): void {
    if (task === 'export-coco' || task === 'export-yolo') this.exportProgress = { done, total }
    if (task === 'import-coco') this.importProgress = { done, total }
  }

  async exportCoco(): Promise<void> {
    await this.export(() => this.editor.api.export.coco({ segmentation: 'auto' }))
  }

  async exportYolo(): Promise<void> {
    await this.export(() => this.editor.api.export.yolo())
  }

  /** Runs an export (main asks where), showing its progress and then what it wrote. */
  private async export(run: () => Promise<ExportSummary | null>): Promise<void> {
    const { projects, messages } = this.editor
    this.exportProgress = { done: 0, total: 0 }
    this.exportResult = null
    const seq = projects.seq
    await messages.guard(async () => {
      const summary = await run()
      if (seq !== projects.seq || summary === null) return
      const inPlace = summary.imagesInPlace === true ? ' (the images were already in place: labels only)' : ''
      this.exportResult = `${summary.annotations} annotations on ${summary.images} images written to ${summary.file}${inPlace}`
      messages.say(this.exportResult)
    })
    if (seq === projects.seq) this.exportProgress = null
  }

  /**
   * Import COCO…: main asks for the file and lands it all or nothing. Then what it changed is
   * read again: the categories (new ones), the current image's annotations and every image's
   * count and status.
   */
  async importCoco(): Promise<void> {
    const { api, projects, messages, images } = this.editor
    const seq = projects.seq
    this.importProgress = { done: 0, total: 0 }
    // Changes still queued for this image reach the store before the import compares against it.
    const summary = await messages.guard(async () => {
      await this.editor.doc.settled()
      return api.export.importCoco()
    })
    if (seq !== projects.seq) return
    this.importProgress = null
    // Cancelled: the last summary stays; failed: the message says why, and no summary is left to misread.
    if (summary === null) return
    if (summary === undefined) {
      this.importResult = null
      return
    }
    this.importResult = importSummaryLines(summary)
    messages.say(this.importResult[0].text)
    await messages.guard(async () => {
      const doc = this.editor.doc
      await doc.loadCategories()
      await images.reload()
      const image = images.current
      if (seq === projects.seq && image !== null && doc.imageId === image.id) await doc.loadImage(image.id)
    })
  }
}
