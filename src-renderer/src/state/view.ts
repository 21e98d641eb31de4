// The view: camera commands (fit, 1:1, zoom), and what is shown over the image (annotations,
// the shortcut overlay). The camera itself and these switches live in the SessionState.
import { actualSizeCamera, zoomAt, type Vec } from '../geometry/geometry.ts'
import type { Editor } from './editor.svelte.ts'

export class ViewControl {
  constructor(private readonly editor: Editor) {}

  get pixelsPerScreenPixel(): number {
    return 1 / this.editor.session.viewport.camera.scale
  }

  get cursor(): Vec | null {
    return this.editor.session.cursor
  }

  fit(): void {
    const image = this.editor.images.current
    if (image?.width != null && image.height != null)
      this.editor.session.viewport.fit({ width: image.width, height: image.height })
  }

  zoom(factor: number, at?: Vec): void {
    const viewport = this.editor.session.viewport
    const { view, camera } = viewport
    viewport.set(zoomAt(camera, at ?? { x: view.width / 2, y: view.height / 2 }, factor))
  }

  actualSize(): void {
    const viewport = this.editor.session.viewport
    viewport.set(actualSizeCamera(viewport.camera, viewport.view))
  }

  toggleAnnotations(): void {
    this.editor.session.annotationsVisible = !this.editor.session.annotationsVisible
  }

  toggleHelp(): void {
    this.editor.session.helpOpen = !this.editor.session.helpOpen
  }

  /** Escape first closes the shortcut overlay; false when it was not open. */
  closeHelp(): boolean {
    if (!this.editor.session.helpOpen) return false
    this.editor.session.helpOpen = false
    return true
  }
}
