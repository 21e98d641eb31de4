// polygon.idle: a click places the first vertex of a hand-drawn polygon.
import type { ToolPointer, ToolState } from '../tool.ts'
import type { PolygonContext, PolygonStateId } from './context.ts'

export class Idle implements ToolState<PolygonStateId> {
  readonly id = 'idle'
  constructor(private readonly polygon: PolygonContext) {}

  pointerDown(pointer: ToolPointer): void {
    if (pointer.button !== 0) return
    this.polygon.editor.polygonDraft = [this.polygon.editor.clampToImage(pointer.image)]
    this.polygon.tool.transition('drawing')
  }
}
