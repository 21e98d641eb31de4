// sam.drawingBox: a box prompt is being dragged. Releasing it sets the prompt's box; a tiny drag
// is a click, so it adds a point as a click would (Shift: a negative one) rather than doing
// nothing. Either way the tool goes back to points: a box is one drag. Escape drops the drag.
import { boxFrom } from '../../geometry/geometry.ts'
import type { CommandId } from '../../../../src-preload/contract/keymap.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { SamContext, SamStateId } from './context.ts'

const MIN_BOX_SCREEN_PIXELS = 4

export class DrawingBox implements ToolState<SamStateId> {
  readonly id = 'drawingBox'
  constructor(private readonly sam: SamContext) {}

  pointerMove(pointer: ToolPointer): void {
    if (this.sam.boxStart === null) return
    this.sam.editor.setDragBox(boxFrom(this.sam.boxStart, pointer.image))
  }

  pointerUp(pointer: ToolPointer): void {
    const start = this.sam.boxStart
    const editor = this.sam.editor
    if (start === null) return
    const box = boxFrom(start, pointer.image)
    const min = MIN_BOX_SCREEN_PIXELS * editor.pixelsPerScreenPixel
    if (box.x1 - box.x0 >= min && box.y1 - box.y0 >= min) editor.setBox(box)
    else if (box.x1 - box.x0 < min && box.y1 - box.y0 < min) editor.addPoint(start, pointer.shift ? 0 : 1)
    this.sam.tool.transition(editor.hasPrompt ? 'prompting' : 'idle')
  }

  command(id: CommandId): boolean {
    if (id !== 'annotation.cancel') return false
    this.sam.tool.transition(this.sam.editor.hasPrompt ? 'prompting' : 'idle')
    return true
  }

  exit(): void {
    this.sam.boxStart = null
    this.sam.editor.setDragBox(null)
  }
}
