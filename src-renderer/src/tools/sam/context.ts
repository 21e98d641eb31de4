// What the SAM tool's states share: the editor they act on, the machine itself, and the box
// drag's anchor.
import type { Vec } from '../../geometry/geometry.ts'
import type { Editing } from '../editing.ts'
import type { Tool } from '../tool.ts'
import type { Idle } from './Idle.ts'
import type { Prompting } from './Prompting.ts'
import type { DrawingBox } from './DrawingBox.ts'
import type { BoxArmed } from './BoxArmed.ts'

/** The states' ids, from the state classes themselves: a transition to any other does not compile. */
export type SamStateId = (Idle | Prompting | DrawingBox | BoxArmed)['id']
export type SamTool = Tool<'sam', SamStateId>

export interface SamContext {
  readonly editor: Editing
  readonly tool: SamTool
  boxStart: Vec | null
}
