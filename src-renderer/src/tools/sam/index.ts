// The SAM tool: idle → prompting ⇄ drawingBox. See tools/README.md for the key table.
import { Tool } from '../tool.ts'
import type { Editing } from '../editing.ts'
import type { SamContext } from './context.ts'
import { DrawingBox } from './DrawingBox.ts'
import { Idle } from './Idle.ts'
import { Prompting } from './Prompting.ts'

export function createSamTool(editor: Editing): { tool: Tool; context: SamContext } {
  const context = { editor, boxMode: false, boxStart: null } as unknown as SamContext & { tool: Tool }
  const tool = new Tool('sam', [new Idle(context), new Prompting(context), new DrawingBox(context)])
  ;(context as { tool: Tool }).tool = tool
  return { tool, context }
}
