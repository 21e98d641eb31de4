// sam.boxArmed: B was pressed; the next drag draws a box (once: the tool then goes back to
// points). The mode is a state of its own so it shows in the path and the canvas hint, and
// Escape, S or B again leave it. A click that is not a drag still adds a point, and any other
// command leaves the mode and is handled as it would be without it.
import type { CommandId } from '../../../../src-preload/contract/keymap.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { SamContext, SamStateId } from './context.ts'

export class BoxArmed implements ToolState<SamStateId> {
  readonly id = 'boxArmed'
  constructor(private readonly sam: SamContext) {}

  private leave(): void {
    this.sam.tool.transition(this.sam.editor.hasPrompt ? 'prompting' : 'idle')
  }

  pointerDown(pointer: ToolPointer): void {
    if (pointer.button === 0) {
      this.sam.boxStart = pointer.image
      this.sam.tool.transition('drawingBox')
      return
    }
    this.leave()
    this.sam.tool.pointerDown(pointer)
  }

  command(id: CommandId): boolean {
    this.leave()
    if (id === 'annotation.cancel' || id === 'tool.box' || id === 'tool.sam') return true
    return this.sam.tool.command(id)
  }
}
