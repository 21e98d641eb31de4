// The select tool: idle ⇄ draggingVertex. See tools/README.md for the key table.
import { Tool } from '../tool.ts'
import type { Editing } from '../editing.ts'
import type { SelectContext } from './context.ts'
import { DraggingVertex } from './DraggingVertex.ts'
import { Idle } from './Idle.ts'

export function createSelectTool(editor: Editing): Tool {
  const context = { editor, drag: null } as unknown as SelectContext & { tool: Tool }
  const tool = new Tool('select', [new Idle(context), new DraggingVertex(context)])
  ;(context as { tool: Tool }).tool = tool
  return tool
}
