// Every keymap command reaches something: an editor command has a handler in the editor's
// table that calls the editor, a tool command is handled by every tool state TOOL_COMMANDS
// names. The type-level half (a table missing a command does not compile) is checked by
// `npm run typecheck`: each @ts-expect-error below fails the typecheck if the error it
// expects ever goes away.
import { describe, expect, it } from 'vitest'
import { KEYMAP, type CommandId } from '../../../src-preload/contract/keymap.ts'
import {
  editorCommands,
  isToolCommand,
  TOOL_COMMANDS,
  type CommandTarget,
  type EditorCommandTable,
  type ToolCommandId,
} from '../../../src-renderer/src/commands.ts'
import {
  createPolygonTool,
  createSamTool,
  createSelectTool,
  type ToolPath,
} from '../../../src-renderer/src/tools/index.ts'
import { recordingEditor } from './recording-editor.ts'

/** An editor whose every part records the calls the command table makes. */
function recordingTarget(): CommandTarget & { calls: string[] } {
  const calls: string[] = []
  const part = (name: string) =>
    new Proxy(
      {},
      {
        get:
          (_target, method: string) =>
          (...args: unknown[]) => {
            calls.push(`${name}.${method}(${args.map((a) => JSON.stringify(a)).join(',')})`)
            // closeHelp: the overlay was closed; selectCategory: such a category exists.
            return method === 'closeHelp' || method === 'selectCategory' ? true : Promise.resolve()
          },
      },
    )
  return {
    calls,
    projects: part('projects'),
    images: part('images'),
    view: part('view'),
    edits: part('edits'),
    transfers: part('transfers'),
    tools: part('tools'),
  } as CommandTarget & { calls: string[] }
}

function toolsFor() {
  const editor = recordingEditor()
  const tools = {
    sam: createSamTool(editor).tool,
    select: createSelectTool(editor),
    polygon: createPolygonTool(editor),
  }
  return { editor, tools }
}

describe('commands', () => {
  it('every keymap command is an editor command with a handler or a tool command with states that act on it', () => {
    const ids = KEYMAP.map((entry) => entry.id)
    const target = recordingTarget()
    const table = editorCommands(target)
    for (const id of ids) {
      if (isToolCommand(id)) {
        expect(Object.keys(table), id).not.toContain(id)
        expect(TOOL_COMMANDS[id].length, id).toBeGreaterThan(0)
        continue
      }
      const handler = (table as Record<string, (() => boolean | void) | undefined>)[id]
      expect(handler, `${id} has no handler`).toBeTypeOf('function')
      const before = target.calls.length
      expect(handler!(), id).not.toBe(false)
      expect(target.calls.length, `${id} called nothing`).toBeGreaterThan(before)
    }
    // No handler for a command the keymap does not have.
    expect(Object.keys(table).filter((id) => !(ids as string[]).includes(id))).toEqual([])
  })

  it('the menu-only commands do what their names say', () => {
    const target = recordingTarget()
    const table = editorCommands(target)
    const call = (id: Exclude<CommandId, ToolCommandId>) => {
      target.calls.length = 0
      table[id]()
      return target.calls
    }
    expect(call('import.coco')).toEqual(['transfers.importCoco()'])
    expect(call('project.rescan')).toEqual(['projects.rescan()'])
    expect(call('category.3')).toEqual(['edits.selectCategory(3)'])
    expect(call('tool.box')).toEqual(['tools.armBox()'])
    // Escape closes the help overlay first, and only then drops the selection.
    expect(call('annotation.cancel')).toEqual(['view.closeHelp()'])
  })

  it('each tool command is handled in every state TOOL_COMMANDS names', () => {
    for (const [id, paths] of Object.entries(TOOL_COMMANDS) as [ToolCommandId, readonly ToolPath[]][]) {
      for (const path of paths) {
        const { editor, tools } = toolsFor()
        const [toolId, stateId] = path.split('.') as [keyof typeof tools, string]
        const tool = tools[toolId]
        // A prompt, or a polygon, under way: what these states are for.
        editor.points.push({ x: 1, y: 1, label: 1 })
        editor.polygonDraft = [{ x: 0, y: 0 }]
        ;(tool.transition as (id: string) => void)(stateId)
        expect(tool.path).toBe(path)
        expect(tool.command(id), `${id} in ${path}`).toBe(true)
      }
    }
  })
})

// --- type level (checked by npm run typecheck, not at run time) ---------------------------------

/** Never called: its body only has to compile, with exactly the errors marked. */
export function typeLevel(table: EditorCommandTable, sam: ReturnType<typeof createSamTool>['tool']): unknown[] {
  const { 'image.next': _dropped, ...withoutNext } = table
  // @ts-expect-error a command table without 'image.next' is not a command table
  const incomplete: EditorCommandTable = withoutNext
  // @ts-expect-error tool commands have no editor handler: they belong to tool states
  const toolCommandInTable: EditorCommandTable = { ...table, 'annotation.accept': () => true }
  // @ts-expect-error a command the keymap does not have
  const unknown: CommandId = 'image.jump'
  // @ts-expect-error a tool state that does not exist
  const noSuchState: ToolPath = 'sam.drawingPolygon'
  sam.transition('boxArmed')
  // @ts-expect-error the SAM tool has no 'drawing' state (the polygon tool has)
  sam.transition('drawing')
  return [incomplete, toolCommandInTable, unknown, noSuchState]
}
