// sam.prompting: an object has points (and maybe a box) and a live mask. More clicks refine it;
// clicking an existing point removes it; Tab cycles candidates; Enter saves, Escape discards,
// Backspace takes the last point back (the previous mask returns exactly).
import { pointNear } from '../../geometry/geometry.ts'
import type { CommandId } from '../../../../src-preload/contract/keymap.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { SamContext, SamStateId } from './context.ts'

/** Screen pixels within which a click hits an existing prompt point. */
export const POINT_HIT_RADIUS = 8

export class Prompting implements ToolState<SamStateId> {
  readonly id = 'prompting'
  constructor(private readonly sam: SamContext) {}

  pointerDown(pointer: ToolPointer): void {
    const editor = this.sam.editor
    if (pointer.button === 0 && pointer.ctrl) {
      this.sam.boxStart = pointer.image
      this.sam.tool.transition('drawingBox')
      return
    }
    if (pointer.button !== 0 && pointer.button !== 2) return
    const hit = pointNear(editor.promptPoints, pointer.image, POINT_HIT_RADIUS * editor.pixelsPerScreenPixel)
    if (hit >= 0) {
      editor.removePoint(hit)
      if (!editor.hasPrompt) this.sam.tool.transition('idle')
      return
    }
    editor.addPoint(pointer.image, pointer.button === 2 || pointer.shift ? 0 : 1)
  }

  command(id: CommandId): boolean {
    const editor = this.sam.editor
    switch (id) {
      case 'prompt.positive':
      case 'prompt.negative':
        if (editor.cursor === null) return false
        editor.addPoint(editor.cursor, id === 'prompt.positive' ? 1 : 0)
        return true
      case 'prompt.removeLast':
        editor.removeLastPoint()
        if (!editor.hasPrompt) this.sam.tool.transition('idle')
        return true
      case 'annotation.nextCandidate':
        editor.cycleCandidate(1)
        return true
      case 'annotation.previousCandidate':
        editor.cycleCandidate(-1)
        return true
      case 'annotation.accept':
        // Refused (nothing decoded yet), the points and mask stay, and so does this state.
        if (editor.acceptPrompt()) this.sam.tool.transition('idle')
        return true
      case 'annotation.addMask':
      case 'annotation.subtractMask':
        if (editor.combineWithSelection(id === 'annotation.addMask' ? 'add' : 'subtract'))
          this.sam.tool.transition('idle')
        return true
      case 'annotation.cancel':
        editor.discardPrompt()
        this.sam.tool.transition('idle')
        return true
      default:
        return false
    }
  }
}
