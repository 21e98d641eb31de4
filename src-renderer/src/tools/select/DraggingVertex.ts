// select.draggingVertex: one vertex of the selection follows the pointer; release saves the
// new rings as one undoable change, Escape puts the vertex back (nothing was saved yet).
import { moveVertex } from '../../geometry/geometry.ts'
import type { CommandId } from '../../../../src-preload/contract/keymap.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { SelectContext, SelectStateId } from './context.ts'

export class DraggingVertex implements ToolState<SelectStateId> {
  readonly id = 'draggingVertex'
  private moved: number[][] | null = null
  constructor(private readonly select: SelectContext) {}

  enter(): void {
    this.moved = null
  }

  pointerMove(pointer: ToolPointer): void {
    const drag = this.select.drag
    if (drag === null) return
    this.moved = moveVertex(drag.rings, drag.ring, drag.vertex, this.select.editor.clampToImage(pointer.image))
    this.select.editor.setEditingRings(this.moved)
  }

  pointerUp(): void {
    const drag = this.select.drag
    if (drag !== null && this.moved !== null) this.select.editor.commitRings(drag.annotation, this.moved, 'Move vertex')
    this.select.tool.transition('idle')
  }

  command(id: CommandId): boolean {
    if (id !== 'annotation.cancel') return false
    this.moved = null
    this.select.tool.transition('idle')
    return true
  }

  exit(): void {
    this.select.drag = null
    this.select.editor.setEditingRings(null)
  }
}
