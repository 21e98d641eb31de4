// select.panning: a drag that began on empty canvas moves the view with the pointer (the
// Select tool has nothing else to do with empty space); release or Escape ends it.
import type { CommandId } from '../../../../src-preload/contract/keymap.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { SelectContext, SelectStateId } from './context.ts'

export class Panning implements ToolState<SelectStateId> {
  readonly id = 'panning'
  constructor(private readonly select: SelectContext) {}

  pointerMove(pointer: ToolPointer): void {
    this.select.editor.panMove(pointer.screen)
  }

  pointerUp(): void {
    this.select.tool.transition('idle')
  }

  command(id: CommandId): boolean {
    if (id !== 'annotation.cancel') return false
    this.select.tool.transition('idle')
    return true
  }

  exit(): void {
    this.select.editor.panEnd()
  }
}
