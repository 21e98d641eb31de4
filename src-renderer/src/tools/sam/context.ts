// What the SAM tool's states share: the editor they act on, the machine itself, and the box
// drag's anchor.
import type { Vec } from '../../geometry/geometry.ts'
import type { Editing } from '../editing.ts'
import type { Tool } from '../tool.ts'

export interface SamContext {
  readonly editor: Editing
  readonly tool: Tool
  boxStart: Vec | null
}
