// What the select tool's states share.
import type { Annotation } from '../../../../src-preload/contract/annotations.ts'
import type { Editing } from '../editing.ts'
import type { Tool } from '../tool.ts'
import type { Idle } from './Idle.ts'
import type { DraggingVertex } from './DraggingVertex.ts'
import type { Panning } from './Panning.ts'

/** The states' ids, from the state classes themselves: a transition to any other does not compile. */
export type SelectStateId = (Idle | DraggingVertex | Panning)['id']
export type SelectTool = Tool<'select', SelectStateId>

export interface SelectContext {
  readonly editor: Editing
  readonly tool: SelectTool
  drag: { annotation: Annotation; ring: number; vertex: number; rings: number[][] } | null
}
