// The select tool: idle ⇄ draggingVertex, idle ⇄ panning. See tools/README.md for the key table.
import { Tool } from '../tool.ts'
import type { Editing } from '../editing.ts'
import type { SelectContext, SelectStateId, SelectTool } from './context.ts'
import { DraggingVertex } from './DraggingVertex.ts'
import { Idle } from './Idle.ts'
import { Panning } from './Panning.ts'

export type { SelectStateId, SelectTool }

export function createSelectTool(editor: Editing): SelectTool {
  const context = { editor, drag: null } as unknown as SelectContext & { tool: SelectTool }
  const tool: SelectTool = new Tool('select', [new Idle(context), new DraggingVertex(context), new Panning(context)])
  ;(context as { tool: SelectTool }).tool = tool
  return tool
}
