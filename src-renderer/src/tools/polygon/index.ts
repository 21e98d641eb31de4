// The manual polygon tool, for when no model helps: idle → drawing.
import { Tool } from '../tool.ts'
import type { Editing } from '../editing.ts'
import type { PolygonContext } from './context.ts'
import { Drawing } from './Drawing.ts'
import { Idle } from './Idle.ts'

export function createPolygonTool(editor: Editing): Tool {
  const context = { editor } as unknown as PolygonContext & { tool: Tool }
  const tool = new Tool('polygon', [new Idle(context), new Drawing(context)])
  ;(context as { tool: Tool }).tool = tool
  return tool
}
