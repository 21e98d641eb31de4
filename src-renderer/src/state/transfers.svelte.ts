// Export and import: COCO and YOLO out, COCO in. Main asks the user where (native dialogs) and
// reports progress as `progress` events; this shows the progress and then what was written.
import type { ExportSummary } from '../../../src-preload/contract/index.ts'
import type { Editor } from './editor.svelte.ts'

export class Transfers {
  exportProgress = $state.raw<{ done: number; total: number } | null>(null)
  exportResult = $state<string | null>(null)

  constructor(private readonly editor: Editor) {}

  /** Per project: the last project's progress and results are not this one's. */
  reset(): void {
    this.exportProgress = null
    this.exportResult = null
  }

  /** A `progress` event from main. */
  progress(task: string, done: number, total: number): void {
    if (task === 'export-coco' || task === 'export-yolo') this.exportProgress = { done, total }
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
}
