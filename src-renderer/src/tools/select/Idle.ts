// select.idle: hovering highlights, a click selects (empty space clears the selection, and a
// drag from there pans the view). On the
// selection: dragging a vertex moves it, a click on an edge adds a vertex there, Alt+click on a
// vertex removes it. A mask without holes is edited through its outline (and becomes a polygon);
// one with holes shows its vertices but refuses to move them.
import { insertVertex, removeVertex } from '../../geometry/geometry.ts'
import type { ToolPointer, ToolState } from '../tool.ts'
import type { SelectContext, SelectStateId } from './context.ts'

export class Idle implements ToolState<SelectStateId> {
  readonly id = 'idle'
  constructor(private readonly select: SelectContext) {}

  pointerMove(pointer: ToolPointer): void {
    const hit = this.select.editor.hitTest(pointer.image)
    this.select.editor.hover(hit?.id ?? null)
  }

  pointerDown(pointer: ToolPointer): void {
    if (pointer.button !== 0) return
    const editor = this.select.editor
    const hit = editor.hitTest(pointer.image)
    if (hit === null) {
      editor.select(null)
      editor.panStart(pointer.screen)
      this.select.tool.transition('panning')
      return
    }
    const annotation = editor.annotationById(hit.id)
    if (annotation === undefined) return
    if (hit.kind !== 'body' && !editor.editable(hit.id)) {
      // Edited rings are stored as a polygon, which has no holes: moving a vertex would fill them.
      editor.refuse(
        `#${hit.id} is a mask with holes: its vertices cannot be moved without filling the holes. Refine it with SAM clicks (add/subtract) instead.`,
      )
      editor.select(hit.id)
      return
    }
    // The outline's rings, as the hit test numbered them (a polygon's outline is its rings).
    const rings = annotation.outline.flatMap((part) => [part.outer, ...part.holes])
    if (hit.kind === 'vertex') {
      if (pointer.alt) {
        const fewer = removeVertex(rings, hit.ring, hit.vertex)
        if (fewer !== null) editor.commitRings(annotation, fewer, 'Remove vertex')
        return
      }
      this.select.drag = { annotation, ring: hit.ring, vertex: hit.vertex, rings }
      this.select.tool.transition('draggingVertex')
      return
    }
    if (hit.kind === 'edge') {
      editor.commitRings(annotation, insertVertex(rings, hit.ring, hit.after, hit.at), 'Add vertex')
      return
    }
    editor.select(hit.id)
  }
}
