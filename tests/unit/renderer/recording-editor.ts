// A recording stand-in for the editor's Editing surface, the tool state machines' only
// collaborator: it keeps the prompt's points and logs every call.
import type { Annotation } from '../../../src-preload/contract/annotations.ts'
import { hitTest, type HitTarget, type Vec } from '../../../src-renderer/src/geometry/geometry.ts'
import type { Editing } from '../../../src-renderer/src/tools/editing.ts'

const square: number[] = [0, 0, 100, 0, 100, 100, 0, 100]

export function recordingEditor(): Editing & { log: string[]; points: { x: number; y: number; label: 0 | 1 }[] } {
  const annotation = {
    id: 7,
    imageId: 1,
    categoryId: 1,
    segmentation: [square],
    outline: [{ outer: square, holes: [] }],
    bbox: [0, 0, 100, 100],
  } as unknown as Annotation
  // #8: a mask with a hole (its outline's outer ring and hole), which vertex edits refuse.
  const outer = [120, 0, 180, 0, 180, 60, 120, 60]
  const hole = [140, 20, 160, 20, 160, 40, 140, 40]
  const holed = {
    id: 8,
    imageId: 1,
    categoryId: 1,
    segmentation: { size: [150, 200], counts: '' },
    outline: [{ outer, holes: [hole] }],
    bbox: [120, 0, 60, 60],
  } as unknown as Annotation
  const targets: HitTarget[] = [
    { id: 7, rings: [square], bbox: [0, 0, 100, 100] },
    { id: 8, rings: [outer, hole], bbox: [120, 0, 60, 60], editable: false },
  ]
  const editor = {
    log: [] as string[],
    points: [] as { x: number; y: number; label: 0 | 1 }[],
    pixelsPerScreenPixel: 1,
    cursor: { x: 42, y: 43 } as Vec | null,
    // A 200x150 image.
    clampToImage: (p: Vec) => ({ x: Math.min(Math.max(p.x, 0), 200), y: Math.min(Math.max(p.y, 0), 150) }),
    get promptPoints() {
      return editor.points
    },
    get hasPrompt() {
      return editor.points.length > 0
    },
    addPoint(at: Vec, label: 0 | 1) {
      editor.points.push({ ...at, label })
      editor.log.push(`add ${at.x},${at.y} ${label}`)
    },
    removePoint(index: number) {
      editor.points.splice(index, 1)
      editor.log.push(`remove ${index}`)
    },
    removeLastPoint() {
      editor.points.pop()
      editor.log.push('removeLast')
    },
    setBox: (box: unknown) => void editor.log.push(`box ${JSON.stringify(box)}`),
    setDragBox: () => {},
    cycleCandidate: (step: number) => void editor.log.push(`cycle ${step}`),
    acceptPrompt: () => {
      editor.points = []
      editor.log.push('accept')
      return true
    },
    discardPrompt: () => {
      editor.points = []
      editor.log.push('discard')
    },
    // Like the editor's: refused, with the prompt kept, while nothing is selected.
    combineWithSelection: (op: 'add' | 'subtract') => {
      if (editor.selectedId === null) {
        editor.log.push(`${op} refused`)
        return false
      }
      editor.points = []
      editor.log.push(op)
      return true
    },
    selectedId: null as number | null,
    hitTest: (at: Vec) => hitTest(targets, at, 4, editor.selectedId),
    annotationById: (id: number) => (id === 7 ? annotation : id === 8 ? holed : undefined),
    select: (id: number | null) => {
      editor.selectedId = id
      editor.log.push(`select ${id}`)
    },
    hover: () => {},
    editable: (id: number) => id === 7,
    refuse: () => void editor.log.push('refuse'),
    setEditingRings: (rings: number[][] | null) => void (rings && editor.log.push(`editing ${rings[0].slice(0, 2)}`)),
    commitRings: (_a: Annotation, rings: number[][], label: string) =>
      void editor.log.push(`${label} ${rings[0].length / 2}`),
    panStart: (screen: Vec) => void editor.log.push(`pan from ${screen.x},${screen.y}`),
    panMove: (screen: Vec) => void editor.log.push(`pan to ${screen.x},${screen.y}`),
    panEnd: () => void editor.log.push('pan end'),
    polygonDraft: [] as Vec[],
    savePolygon: async (vertices: Vec[]) => void editor.log.push(`polygon ${vertices.length}`),
  }
  return editor
}
