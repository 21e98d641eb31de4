// The manual polygon tool, for when no model helps: idle → drawing.
import { Tool } from '../tool.ts'
import type { Editing } from '../editing.ts'
import type { PolygonContext, PolygonStateId, PolygonTool } from './context.ts'
import { Drawing } from './Drawing.ts'
import { Idle } from './Idle.ts'

export type { PolygonStateId, PolygonTool }

export function createPolygonTool(editor: Editing): PolygonTool {
  const context = { editor } as unknown as PolygonContext & { tool: PolygonTool }
  const tool: PolygonTool = new Tool('polygon', [new Idle(context), new Drawing(context)])
  ;(context as { tool: PolygonTool }).tool = tool
  return tool
}
