// select.idle: hovering highlights, a click selects (empty space clears the selection). On the
// selection: dragging a vertex moves it, a click on an edge adds a vertex there, Alt+click on a
// vertex removes it.
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
      return
    }
    const annotation = editor.annotationById(hit.id)
    if (annotation === undefined) return
    // Vertex and edge hits come only from a polygon, whose outline is its rings.
    const rings = annotation.outline.map((part) => part.outer)
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
