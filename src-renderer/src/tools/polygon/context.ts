// What the polygon tool's states share.
import type { Editing } from '../editing.ts'
import type { Tool } from '../tool.ts'

export interface PolygonContext {
  readonly editor: Editing
  readonly tool: Tool
}
