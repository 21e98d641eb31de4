// The tools as state machines, driven with synthetic pointer events and commands, no canvas:
// a recording editor stands in for the Editor (the machines' only collaborator).
import { describe, expect, it } from 'vitest'
import { recordingEditor } from './recording-editor.ts'
import { createPolygonTool } from '../../../src-renderer/src/tools/polygon/index.ts'
import { createSamTool } from '../../../src-renderer/src/tools/sam/index.ts'
import { createSelectTool } from '../../../src-renderer/src/tools/select/index.ts'
import type { ToolPointer } from '../../../src-renderer/src/tools/tool.ts'

const at = (x: number, y: number, more: Partial<ToolPointer> = {}): ToolPointer => ({
  image: { x, y },
  screen: { x, y },
  button: 0,
  shift: false,
  ctrl: false,
  alt: false,
  ...more,
})

describe('sam tool', () => {
  it('idle → prompting on a click; right/shift click is negative; clicking a point removes it', () => {
    const editor = recordingEditor()
    const { tool } = createSamTool(editor)
    expect(tool.path).toBe('sam.idle')
    tool.pointerDown(at(10, 10))
    expect(tool.path).toBe('sam.prompting')
    tool.pointerDown(at(50, 50, { button: 2 }))
    tool.pointerDown(at(80, 80, { shift: true }))
    expect(editor.points.map((p) => p.label)).toEqual([1, 0, 0])
    tool.pointerDown(at(51, 49))
    expect(editor.log).toContain('remove 1')
  })

  it('keys: points at the cursor, Tab cycles, Backspace to empty goes idle, Enter accepts, Escape discards', () => {
    const editor = recordingEditor()
    const { tool } = createSamTool(editor)
    expect(tool.command('prompt.negative')).toBe(true)
    expect(editor.points).toEqual([{ x: 42, y: 43, label: 0 }])
    expect(tool.path).toBe('sam.prompting')
    tool.command('annotation.nextCandidate')
    tool.command('annotation.previousCandidate')
    tool.command('prompt.removeLast')
    expect(tool.path).toBe('sam.idle')
    tool.command('prompt.positive')
    tool.command('annotation.accept')
    expect(tool.path).toBe('sam.idle')
    tool.command('prompt.positive')
    tool.command('annotation.cancel')
    expect(editor.log).toEqual([
      'add 42,43 0',
      'cycle 1',
      'cycle -1',
      'removeLast',
      'add 42,43 1',
      'accept',
      'add 42,43 1',
      'discard',
    ])
    // In idle, Enter means nothing to the tool.
    expect(tool.command('annotation.accept')).toBe(false)
  })

  it('+ and - hand the prompted mask to the selection and end the prompt', () => {
    const editor = recordingEditor()
    const { tool } = createSamTool(editor)
    expect(tool.command('annotation.addMask')).toBe(false)
    tool.pointerDown(at(10, 10))
    // Nothing selected: refused, and the prompt stays live (Enter, Escape, Backspace still act on it).
    expect(tool.command('annotation.addMask')).toBe(true)
    expect(tool.path).toBe('sam.prompting')
    expect(editor.points).toHaveLength(1)
    tool.command('prompt.removeLast')
    expect(tool.path).toBe('sam.idle')
    ;(editor as { selectedId: number | null }).selectedId = 7
    tool.pointerDown(at(10, 10))
    expect(tool.command('annotation.addMask')).toBe(true)
    expect(tool.path).toBe('sam.idle')
    tool.pointerDown(at(10, 10))
    tool.command('annotation.subtractMask')
    expect(editor.log.filter((l) => /^(add|subtract)( refused)?$/.test(l))).toEqual(['add refused', 'add', 'subtract'])
  })

  it('Ctrl+drag draws a box; a tiny drag is a click: a point, not a box', () => {
    const editor = recordingEditor()
    const { tool } = createSamTool(editor)
    tool.pointerDown(at(10, 10, { ctrl: true }))
    expect(tool.path).toBe('sam.drawingBox')
    tool.pointerMove(at(60, 40))
    tool.pointerUp(at(60, 40))
    expect(editor.log).toContain('box {"x0":10,"y0":10,"x1":60,"y1":40}')
    tool.pointerDown(at(10, 10, { ctrl: true }))
    tool.pointerUp(at(11, 11))
    expect(editor.log.filter((l) => l.startsWith('box'))).toHaveLength(1)
    expect(editor.log.at(-1)).toBe('add 10,10 1')
    expect(tool.path).toBe('sam.prompting')
  })

  it('B arms one box: the path says so, one drag draws it, then clicks are points again', () => {
    const editor = recordingEditor()
    const { tool } = createSamTool(editor)
    tool.transition('boxArmed')
    expect(tool.path).toBe('sam.boxArmed')
    tool.pointerDown(at(10, 10))
    expect(tool.path).toBe('sam.drawingBox')
    tool.pointerUp(at(80, 70))
    expect(editor.log).toEqual(['box {"x0":10,"y0":10,"x1":80,"y1":70}'])
    expect(tool.path).toBe('sam.idle') // the stand-in's prompt counts points only
    tool.pointerDown(at(30, 30))
    expect(editor.log.at(-1)).toBe('add 30,30 1')
    expect(tool.path).toBe('sam.prompting')
  })

  it('Escape, B or S leave box mode and keep the prompt; a click in box mode adds a point; other keys act as usual', () => {
    const editor = recordingEditor()
    const { tool } = createSamTool(editor)
    tool.transition('boxArmed')
    expect(tool.command('annotation.cancel')).toBe(true)
    expect(tool.path).toBe('sam.idle')
    tool.pointerDown(at(20, 20))
    tool.transition('boxArmed')
    for (const key of ['annotation.cancel', 'tool.box', 'tool.sam'] as const) {
      tool.transition('boxArmed')
      expect(tool.command(key)).toBe(true)
      expect(tool.path).toBe('sam.prompting')
      expect(editor.points).toHaveLength(1)
    }
    // A click (no drag) in box mode is a point, as everywhere else.
    tool.transition('boxArmed')
    tool.pointerDown(at(50, 50, { shift: true }))
    tool.pointerUp(at(50, 50, { shift: true }))
    expect(editor.log.at(-1)).toBe('add 50,50 0')
    // Right click: out of box mode, a negative point.
    tool.transition('boxArmed')
    tool.pointerDown(at(60, 60, { button: 2 }))
    expect(editor.log.at(-1)).toBe('add 60,60 0')
    // Enter in box mode saves the prompt, as without it.
    tool.transition('boxArmed')
    expect(tool.command('annotation.accept')).toBe(true)
    expect(editor.log.at(-1)).toBe('accept')
    expect(tool.path).toBe('sam.idle')
  })
})

describe('select tool', () => {
  it('click selects, a vertex drag commits once on release, an edge click adds a vertex, Alt+click removes one', () => {
    const editor = recordingEditor()
    const tool = createSelectTool(editor)
    tool.pointerDown(at(50, 50))
    expect(editor.selectedId).toBe(7)
    tool.pointerDown(at(100, 100))
    expect(tool.path).toBe('select.draggingVertex')
    tool.pointerMove(at(120, 110))
    tool.pointerUp(at(120, 110))
    expect(tool.path).toBe('select.idle')
    tool.pointerDown(at(50, 1))
    tool.pointerDown(at(0, 0, { alt: true }))
    tool.pointerDown(at(300, 300))
    tool.pointerUp(at(300, 300))
    expect(editor.log).toEqual([
      'select 7',
      'editing 0,0',
      'Move vertex 4',
      'Add vertex 5',
      'Remove vertex 3',
      'select null',
      'pan from 300,300',
      'pan end',
    ])
  })

  it('a drag on empty canvas pans the view (and clears the selection); release or Escape ends it', () => {
    const editor = recordingEditor()
    const tool = createSelectTool(editor)
    tool.pointerDown(at(50, 50))
    tool.pointerDown(at(300, 300))
    expect(tool.path).toBe('select.panning')
    tool.pointerMove(at(320, 290))
    tool.pointerUp(at(320, 290))
    expect(tool.path).toBe('select.idle')
    tool.pointerDown(at(300, 300))
    tool.command('annotation.cancel')
    expect(tool.path).toBe('select.idle')
    expect(editor.log).toEqual([
      'select 7',
      'select null',
      'pan from 300,300',
      'pan to 320,290',
      'pan end',
      'select null',
      'pan from 300,300',
      'pan end',
    ])
  })

  it('a vertex dragged past the image edge stays on the edge (no negative coordinates reach main)', () => {
    const editor = recordingEditor()
    const tool = createSelectTool(editor)
    tool.pointerDown(at(50, 50))
    tool.pointerDown(at(0, 0))
    tool.pointerMove(at(-20, -30))
    tool.pointerMove(at(250, 40))
    tool.pointerUp(at(250, 40))
    expect(editor.log.filter((l) => l.startsWith('editing'))).toEqual(['editing 0,0', 'editing 200,40'])
  })

  it('a mask with holes is selected by its body but refuses vertex and edge edits (they would fill its holes)', () => {
    const editor = recordingEditor()
    const tool = createSelectTool(editor)
    tool.pointerDown(at(125, 5))
    expect(editor.selectedId).toBe(8)
    tool.pointerDown(at(150, 30)) // inside the hole: nothing there
    tool.pointerUp(at(150, 30))
    expect(editor.selectedId).toBeNull()
    tool.pointerDown(at(125, 5))
    tool.pointerDown(at(180, 60)) // a vertex of the outer ring
    expect(tool.path).toBe('select.idle')
    tool.pointerDown(at(150, 20)) // an edge of the hole
    expect(editor.log.filter((line) => !line.startsWith('pan'))).toEqual([
      'select 8',
      'select null',
      'select 8',
      'refuse',
      'select 8',
      'refuse',
      'select 8',
    ])
  })

  it('Escape during a drag commits nothing', () => {
    const editor = recordingEditor()
    const tool = createSelectTool(editor)
    tool.pointerDown(at(50, 50))
    tool.pointerDown(at(0, 0))
    tool.pointerMove(at(-20, -20))
    tool.command('annotation.cancel')
    tool.pointerUp(at(-20, -20))
    expect(editor.log.some((l) => l.startsWith('Move vertex'))).toBe(false)
  })
})

describe('polygon tool', () => {
  it('clicks add vertices; clicking the first closes and saves; Escape drops', () => {
    const editor = recordingEditor()
    const tool = createPolygonTool(editor)
    tool.pointerDown(at(0, 0))
    tool.pointerDown(at(50, 0))
    tool.pointerDown(at(50, 50))
    expect(tool.path).toBe('polygon.drawing')
    tool.pointerDown(at(1, 1))
    expect(editor.log).toEqual(['polygon 3'])
    expect(tool.path).toBe('polygon.idle')
    tool.pointerDown(at(0, 0))
    tool.command('annotation.cancel')
    expect(editor.polygonDraft).toEqual([])
  })
})
