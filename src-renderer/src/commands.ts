// What every keymap command does, as types the compiler checks. A command is either a tool
// command (its meaning depends on the current tool's state: Enter, Tab, Q in the SAM tool...)
// or an editor command (the same whatever the tool: images, view, undo, export...).
//
// - Tool commands are listed in TOOL_COMMANDS with the tool states that act on them (each a
//   `ToolPath`, so a state that does not exist does not compile); the current state gets them
//   and outside those states they mean nothing.
// - Every other command must have a handler in the editor's table (`EditorCommandTable`, an
//   exhaustive Record): a keymap command that is neither does not compile.
//
// The current tool state always sees a command first (Escape ends a drag before it deselects);
// see tools/README.md for which key does what in which state. Plain TypeScript, so the table
// can be checked in a unit test without Svelte.
import { CATEGORY_NUMBERS, type CategoryNumber, type CommandId } from '../../src-preload/contract/keymap.ts'
import type { ImageStatus } from '../../src-preload/contract/index.ts'
import type { ToolId, ToolPath } from './tools/index.ts'

/** Commands only tool states act on, and which states (unit-tested: each listed state handles it). */
export const TOOL_COMMANDS = {
  'prompt.positive': ['sam.idle', 'sam.prompting'],
  'prompt.negative': ['sam.idle', 'sam.prompting'],
  'prompt.removeLast': ['sam.prompting', 'polygon.drawing'],
  'annotation.accept': ['sam.prompting', 'polygon.drawing'],
  'annotation.nextCandidate': ['sam.prompting'],
  'annotation.previousCandidate': ['sam.prompting'],
  'annotation.addMask': ['sam.prompting'],
  'annotation.subtractMask': ['sam.prompting'],
} as const satisfies { readonly [C in CommandId]?: readonly ToolPath[] }

export type ToolCommandId = keyof typeof TOOL_COMMANDS
export type EditorCommandId = Exclude<CommandId, ToolCommandId>

/** Carries out a command; false when it means nothing now (the key press then goes on to the page). */
export type CommandHandler = () => boolean | void

export type EditorCommandTable = Record<EditorCommandId, CommandHandler>

export function isToolCommand(command: CommandId): command is ToolCommandId {
  return Object.hasOwn(TOOL_COMMANDS, command)
}

/** What the editor commands reach: the editor's parts, narrowed to the calls the table makes. */
export interface CommandTarget {
  readonly projects: { openDialog(): Promise<void>; rescan(): Promise<void> }
  readonly images: {
    step(delta: 1 | -1): Promise<void>
    first(): Promise<void>
    last(): Promise<void>
    askNumber(): void
    focusName(): void
    nextUnannotated(): Promise<void>
    setStatus(status: ImageStatus): Promise<void>
  }
  readonly view: {
    fit(): void
    zoom(factor: number): void
    actualSize(): void
    toggleAnnotations(): void
    toggleHelp(): void
    closeHelp(): boolean
  }
  readonly edits: {
    undo(): Promise<void>
    redo(): Promise<void>
    deleteSelected(): Promise<void>
    setSelectedCategory(): Promise<void>
    selectCategory(n: number): boolean
    select(id: number | null): void
  }
  readonly transfers: { exportCoco(): Promise<void>; exportYolo(): Promise<void>; importCoco(): Promise<void> }
  readonly tools: { setTool(id: ToolId): void; armBox(): void }
}

/** Keys 1-9, one handler per number of the keymap's own list. */
function categoryCommands(editor: CommandTarget): Record<`category.${CategoryNumber}`, CommandHandler> {
  const table: Partial<Record<`category.${CategoryNumber}`, CommandHandler>> = {}
  for (const n of CATEGORY_NUMBERS) table[`category.${n}`] = () => editor.edits.selectCategory(n)
  return table as Record<`category.${CategoryNumber}`, CommandHandler>
}

export function editorCommands(editor: CommandTarget): EditorCommandTable {
  const { projects, images, view, edits, transfers, tools } = editor
  return {
    'project.open': () => void projects.openDialog(),
    'export.coco': () => void transfers.exportCoco(),
    'export.yolo': () => void transfers.exportYolo(),
    'import.coco': () => void transfers.importCoco(),
    'project.rescan': () => void projects.rescan(),
    'edit.undo': () => void edits.undo(),
    'edit.redo': () => void edits.redo(),
    'view.fit': () => view.fit(),
    'view.actualSize': () => view.actualSize(),
    'view.zoomIn': () => view.zoom(1.25),
    'view.zoomOut': () => view.zoom(0.8),
    'view.toggleAnnotations': () => view.toggleAnnotations(),
    'view.shortcuts': () => view.toggleHelp(),
    'image.next': () => void images.step(1),
    'image.previous': () => void images.step(-1),
    'image.first': () => void images.first(),
    'image.last': () => void images.last(),
    'image.goTo': () => images.askNumber(),
    'image.filterByName': () => images.focusName(),
    'image.nextUnannotated': () => void images.nextUnannotated(),
    'image.markDone': () => void images.setStatus('done'),
    'image.markSkipped': () => void images.setStatus('skipped'),
    'tool.sam': () => tools.setTool('sam'),
    'tool.box': () => tools.armBox(),
    'tool.select': () => tools.setTool('select'),
    'tool.polygon': () => tools.setTool('polygon'),
    'annotation.setCategory': () => void edits.setSelectedCategory(),
    'annotation.delete': () => void edits.deleteSelected(),
    // Escape outside a tool's own use of it: close the shortcut overlay, else drop the selection.
    'annotation.cancel': () => void (view.closeHelp() || edits.select(null)),
    ...categoryCommands(editor),
  }
}
