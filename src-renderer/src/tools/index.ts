// The tools and their state paths as types: `ToolPath` is every 'tool.state' there is, so a
// table naming states (the command table's tool commands) cannot name one that does not exist.
import type { PolygonTool } from './polygon/index.ts'
import type { SamTool } from './sam/index.ts'
import type { SelectTool } from './select/index.ts'

export { createPolygonTool } from './polygon/index.ts'
export { createSamTool } from './sam/index.ts'
export { createSelectTool } from './select/index.ts'

export type AnyTool = SamTool | SelectTool | PolygonTool
export type ToolId = AnyTool['id']
/** 'sam.idle', 'sam.prompting', ... 'polygon.drawing'. */
export type ToolPath = AnyTool['path']
