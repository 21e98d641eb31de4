// Project lifecycle: which project is open, the recent list, opening and closing. Everything
// of a project is per open: opening another project (or the same one again) starts a new
// document, session, image list and message, and an answer that arrives for the project
// before is dropped (`seq`). Image ids restart in every project, so an id alone never says
// which project an answer is about.
import type { ProjectSummary, RecentProject } from '../../../src-preload/contract/index.ts'
import { scanSummaryText } from '../../../src-preload/contract/summaries.ts'
import { DocumentState } from './document.svelte.ts'
import type { Editor } from './editor.svelte.ts'
import { SessionState } from './session.svelte.ts'

export class Projects {
  current = $state.raw<ProjectSummary | null>(null)
  recent = $state.raw<RecentProject[]>([])
  /** Counts project opens and closes; work begun under an earlier value is stale. */
  seq = 0
  /** What the last Rescan Folder found (shown in the image panel); per project. */
  scanResult = $state<string | null>(null)

  constructor(private readonly editor: Editor) {}

  async openDialog(): Promise<void> {
    const { api, messages } = this.editor
    await messages.guard(
      async () => {
        // Changes still queued for this project reach it before main switches.
        await this.editor.doc.settled()
        const summary = await api.project.openDialog()
        if (summary !== null) await this.adopt(summary)
      },
      { switching: true },
    )
  }

  async openRecent(folder: string): Promise<void> {
    const { api, messages } = this.editor
    await messages.guard(
      async () => {
        await this.editor.doc.settled()
        await this.adopt(await api.project.open({ folder }))
      },
      { switching: true },
    )
  }

  async close(): Promise<void> {
    const { api, messages } = this.editor
    await messages.guard(
      async () => {
        await this.editor.doc.settled()
        this.editor.prompt.discard()
        await api.project.close()
        this.leave()
        this.recent = await api.project.recent()
      },
      { switching: true },
    )
  }

  /** Drops a folder from the recent list (the × of its row on the welcome screen). */
  async forget(folder: string): Promise<void> {
    const { api, messages } = this.editor
    await messages.guard(async () => {
      this.recent = await api.project.forgetRecent({ folder })
    })
  }

  /**
   * Scans the folder again: new files join the list, vanished ones are marked missing, moved
   * ones keep their annotations. The current image stays current; if its own file changed
   * (came back, changed size, became unreadable) it is loaded again.
   */
  async rescan(): Promise<void> {
    const { api, messages, images } = this.editor
    if (this.current === null) return
    const seq = this.seq
    await messages.guard(async () => {
      const summary = await api.project.rescan()
      if (seq !== this.seq) return
      this.current = summary
      const before = images.current
      await images.reload()
      if (seq !== this.seq) return
      const after = images.current
      if (
        before !== null &&
        after !== null &&
        (before.missing !== after.missing ||
          before.error !== after.error ||
          before.width !== after.width ||
          before.size !== after.size)
      ) {
        await images.show(after)
      }
      this.scanResult = summary.scan === null ? null : scanSummaryText(summary.scan)
      if (this.scanResult !== null) messages.say(this.scanResult)
    })
  }

  /** Shows a project main has opened; the call's answer and main's event both lead here, once. */
  async adopt(summary: ProjectSummary): Promise<void> {
    if (summary.openId === this.current?.openId) return
    this.startFresh()
    this.current = summary
    const seq = this.seq
    await this.editor.doc.loadCategories()
    if (seq !== this.seq) return
    const images = this.editor.images
    await images.reload()
    if (seq !== this.seq) return
    await images.openFirstUnfinished()
  }

  /** Main closed the project (or the user did): back to the welcome screen with nothing stale. */
  leave(): void {
    this.startFresh()
    this.current = null
  }

  /**
   * A fresh start for the next project: the old document refuses further changes (its ids name
   * annotations of the project open now), and history, view, images, messages and progress go.
   * The canvas size and the chosen tool are the user's, not the project's: they stay.
   */
  private startFresh(): void {
    const editor = this.editor
    this.seq++
    editor.prompt.discard()
    editor.tools.resetAll()
    editor.doc.close()
    editor.doc = new DocumentState(editor.api)
    editor.doc.onImagesChanged = () => void editor.messages.guard(() => editor.images.reload())
    const view = editor.session.viewport.view
    editor.session = new SessionState()
    editor.session.viewport.view = view
    editor.images.reset()
    editor.encoding.reset()
    editor.prompt.reset()
    editor.messages.clear()
    editor.transfers.reset()
    this.scanResult = null
  }
}
