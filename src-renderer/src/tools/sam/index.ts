// The SAM tool: idle → prompting ⇄ drawingBox, and boxArmed (B) before a plain drag draws a
// box. See tools/README.md for the key table.
import { Tool } from '../tool.ts'
import type { Editing } from '../editing.ts'
import type { SamContext, SamStateId, SamTool } from './context.ts'
import { BoxArmed } from './BoxArmed.ts'
import { DrawingBox } from './DrawingBox.ts'
import { Idle } from './Idle.ts'
import { Prompting } from './Prompting.ts'

export type { SamStateId, SamTool }

export function createSamTool(editor: Editing): { tool: SamTool; context: SamContext } {
  const context = { editor, boxStart: null } as unknown as SamContext & { tool: SamTool }
  const tool: SamTool = new Tool('sam', [
    new Idle(context),
    new Prompting(context),
    new DrawingBox(context),
    new BoxArmed(context),
  ])
  ;(context as { tool: SamTool }).tool = tool
  return { tool, context }
}
