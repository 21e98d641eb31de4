// polygon.drawing: clicks add vertices; a click on the first vertex or Enter closes and saves
// it with the active category; Backspace removes the last vertex; Escape drops the polygon.
import type { CommandId } from '../../../../src-preload/contract/keymap.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { PolygonContext, PolygonStateId } from './context.ts'

/** Screen pixels from the first vertex within which a click closes the polygon. */
export const CLOSE_RADIUS = 8

export class Drawing implements ToolState<PolygonStateId> {
  readonly id = 'drawing'
  constructor(private readonly polygon: PolygonContext) {}

  pointerDown(pointer: ToolPointer): void {
    if (pointer.button !== 0) return
    const editor = this.polygon.editor
    const first = editor.polygonDraft[0]
    const radius = CLOSE_RADIUS * editor.pixelsPerScreenPixel
    if (
      first !== undefined &&
      editor.polygonDraft.length >= 3 &&
      Math.hypot(first.x - pointer.image.x, first.y - pointer.image.y) <= radius
    ) {
      this.close()
      return
    }
    editor.polygonDraft = [...editor.polygonDraft, editor.clampToImage(pointer.image)]
  }

  private close(): void {
    const vertices = this.polygon.editor.polygonDraft
    if (vertices.length >= 3) void this.polygon.editor.savePolygon(vertices)
    this.polygon.tool.transition('idle')
  }

  command(id: CommandId): boolean {
    const editor = this.polygon.editor
    switch (id) {
      case 'annotation.accept':
        this.close()
        return true
      case 'annotation.cancel':
        this.polygon.tool.transition('idle')
        return true
      case 'prompt.removeLast':
        editor.polygonDraft = editor.polygonDraft.slice(0, -1)
        if (editor.polygonDraft.length === 0) this.polygon.tool.transition('idle')
        return true
      default:
        return false
    }
  }

  exit(): void {
    this.polygon.editor.polygonDraft = []
  }
}
