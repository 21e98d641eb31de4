// sam.idle: no object is being prompted. A click starts one (left: on the object, right or
// shift: not on it); a drag with Ctrl held starts a box prompt (B arms one for a plain drag).
import type { CommandId } from '../../../../src-preload/contract/keymap.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { SamContext, SamStateId } from './context.ts'

export class Idle implements ToolState<SamStateId> {
  readonly id = 'idle'
  constructor(private readonly sam: SamContext) {}

  pointerDown(pointer: ToolPointer): void {
    if (pointer.button === 0 && pointer.ctrl) {
      this.sam.boxStart = pointer.image
      this.sam.tool.transition('drawingBox')
      return
    }
    if (pointer.button !== 0 && pointer.button !== 2) return
    this.sam.editor.addPoint(pointer.image, pointer.button === 2 || pointer.shift ? 0 : 1)
    this.sam.tool.transition('prompting')
  }

  command(id: CommandId): boolean {
    const cursor = this.sam.editor.cursor
    if ((id === 'prompt.positive' || id === 'prompt.negative') && cursor !== null) {
      this.sam.editor.addPoint(cursor, id === 'prompt.positive' ? 1 : 0)
      this.sam.tool.transition('prompting')
      return true
    }
    return false
  }
}
