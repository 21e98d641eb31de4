// What the polygon tool's states share.
import type { Editing } from '../editing.ts'
import type { Tool } from '../tool.ts'
import type { Idle } from './Idle.ts'
import type { Drawing } from './Drawing.ts'

/** The states' ids, from the state classes themselves: a transition to any other does not compile. */
export type PolygonStateId = (Idle | Drawing)['id']
export type PolygonTool = Tool<'polygon', PolygonStateId>

export interface PolygonContext {
  readonly editor: Editing
  readonly tool: PolygonTool
}
