// The editor: the root the components read. It holds the open project's document
// (categories, annotations, undo) and session (camera, prompt: never saved), and composes one
// part per job:
//
//   projects   project lifecycle: open, close, recent; per-project reset (projects.svelte.ts)
//   images     image list, current image, filter, status (images.svelte.ts)
//   view       camera and what is shown (view.ts)
//   prompt     the prompt loop: points, box, decode, accept, combine (prompt.svelte.ts)
//   edits      saved annotations: select, vertices, delete, category, polygon, undo (edits.svelte.ts)
//   transfers  export and import (transfers.svelte.ts)
//   messages   the message line and `guard` (messages.svelte.ts)
//   tools      the active tool and the `Editing` surface tools act through (tools.svelte.ts)
//   encoding   how long the current image's embedding has been on its way (encode-clock.svelte.ts)
//
// Keys and menu items arrive as commands (`run`): the current tool state first, then the
// editor's command table (../commands.ts). The canvas and panels never decide what an input
// means.
import type { Api, ModelInfo } from '../../../src-preload/contract/index.ts'
import type { CommandId } from '../../../src-preload/contract/keymap.ts'
import { describeError } from '../api.ts'
import { editorCommands, isToolCommand, type EditorCommandTable } from '../commands.ts'
import { isTyping } from '../keymap.ts'
import { DocumentState } from './document.svelte.ts'
import { AnnotationEdits } from './edits.svelte.ts'
import { EncodeClock } from './encode-clock.svelte.ts'
import { ImageNavigation } from './images.svelte.ts'
import { Messages } from './messages.svelte.ts'
import { Projects } from './projects.svelte.ts'
import { PromptLoop } from './prompt.svelte.ts'
import { SessionState } from './session.svelte.ts'
import { Tools } from './tools.svelte.ts'
import { Transfers } from './transfers.svelte.ts'
import { ViewControl } from './view.ts'

export class Editor {
  /** Replaced on every project open (Projects): an old project's state never leaks into the next. */
  doc = $state.raw<DocumentState>() as DocumentState
  session = $state.raw(new SessionState())

  model = $state.raw<ModelInfo | null>(null)
  modelError = $state<string | null>(null)

  readonly messages: Messages
  readonly projects: Projects
  readonly images: ImageNavigation
  readonly view: ViewControl
  readonly prompt: PromptLoop
  readonly edits: AnnotationEdits
  readonly transfers: Transfers
  readonly tools: Tools
  readonly encoding = new EncodeClock()
  private readonly commands: EditorCommandTable
  private readonly unsubscribe: (() => void)[] = []

  constructor(readonly api: Api) {
    this.doc = new DocumentState(api)
    this.messages = new Messages(() => this.projects.seq)
    this.projects = new Projects(this)
    this.images = new ImageNavigation(this)
    this.view = new ViewControl(this)
    this.prompt = new PromptLoop(this)
    this.edits = new AnnotationEdits(this)
    this.transfers = new Transfers(this)
    this.tools = new Tools(this)
    this.commands = editorCommands(this)
  }

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.api.events.on('embedding', ({ imageId, state, expectedMs }) => {
        this.images.embeddingEvent(imageId, state)
        this.encoding.update(imageId, state, expectedMs)
      }),
      this.api.events.on('progress', ({ task, done, total }) => this.transfers.progress(task, done, total)),
      this.api.events.on('project', (summary) => {
        if (summary !== null) void this.projects.adopt(summary)
        else if (this.projects.current !== null) this.projects.leave()
      }),
      this.api.events.on('menu', ({ command, byKey }) => this.runMenu(command, byKey === true)),
    )
    this.api.model
      .info()
      .then((info) => (this.model = info))
      .catch((err: unknown) => (this.modelError = describeError(err)))
    const [current, recent] = await Promise.all([this.api.project.current(), this.api.project.recent()])
    this.projects.recent = recent
    if (current !== null) await this.projects.adopt(current)
  }

  dispose(): void {
    for (const stop of this.unsubscribe) stop()
  }

  /**
   * A menu item main reports. Its accelerator pressed while typing in a text field belongs to
   * the field: Ctrl+Z in a category name undoes typing, not the last annotation, and Ctrl+D
   * there marks no image done.
   */
  runMenu(command: CommandId, byKey: boolean): void {
    if (byKey && isTyping(document.activeElement)) {
      // execCommand is deprecated but still the one way to reach a field's own undo stack.
      if (command === 'edit.undo') document.execCommand('undo')
      else if (command === 'edit.redo') document.execCommand('redo')
      return
    }
    this.run(command)
  }

  /** Carries out a keymap command (a key or a menu item); false when it means nothing now. */
  run(command: CommandId): boolean {
    const problem = this.images.problem
    if (problem !== null && (command === 'prompt.positive' || command === 'prompt.negative')) {
      this.messages.say(problem, 'error')
      return true
    }
    if (this.tools.current.command(command)) return true
    if (isToolCommand(command)) return false
    return this.commands[command]() !== false
  }
}
