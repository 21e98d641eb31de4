// What the select tool's states share.
import type { Annotation } from '../../../../src-preload/contract/annotations.ts'
import type { Editing } from '../editing.ts'
import type { Tool } from '../tool.ts'

export interface SelectContext {
  readonly editor: Editing
  readonly tool: Tool
  drag: { annotation: Annotation; ring: number; vertex: number; rings: number[][] } | null
}
