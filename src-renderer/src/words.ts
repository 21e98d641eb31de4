// The words the UI shows for internal names: a tool state's path ('sam.prompting') becomes the
// tool's name and what the next click does, an image status becomes its label.
import type { ImageStatus } from '../../src-preload/contract/index.ts'
import type { ToolPath } from './tools/index.ts'

export const TOOL_NAMES: Record<string, string> = {
  sam: 'Segment',
  select: 'Select',
  polygon: 'Polygon',
}

const STATE_WORDS: Record<ToolPath, { tool: string; hint: string }> = {
  'sam.idle': { tool: 'Segment', hint: 'click an object to add points' },
  'sam.prompting': { tool: 'Segment', hint: 'click to refine · Enter saves · Esc clears' },
  'sam.boxArmed': { tool: 'Box', hint: 'drag around the object' },
  'sam.drawingBox': { tool: 'Box', hint: 'release to segment the box' },
  'select.idle': { tool: 'Select', hint: 'click an annotation to select it · drag empty space to pan' },
  'select.draggingVertex': { tool: 'Select', hint: 'moving a vertex' },
  'select.panning': { tool: 'Select', hint: 'moving the view' },
  'polygon.idle': { tool: 'Polygon', hint: 'click to place the first vertex' },
  'polygon.drawing': { tool: 'Polygon', hint: 'click to add vertices · Enter saves' },
}

/** The tool's name and its state in words; an unknown path still reads as words, never as 'a.b'. */
export function toolWords(path: string): { tool: string; hint: string } {
  const known = (STATE_WORDS as Record<string, { tool: string; hint: string }>)[path]
  if (known !== undefined) return known
  const tool = path.split('.')[0] ?? ''
  return { tool: TOOL_NAMES[tool] ?? tool, hint: '' }
}

export const STATUS_WORDS: Record<ImageStatus, string> = {
  new: 'New',
  in_progress: 'In progress',
  done: 'Done',
  skipped: 'Skipped',
}
