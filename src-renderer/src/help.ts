// The help overlay's sections: the keymap table grouped by task. Every entry with a key lands in
// exactly one section (an id no rule claims falls into the last one rather than vanishing), and
// the nine 'category N' entries become one row, since they differ only in the digit.
import { keysOf } from '../../src-preload/contract/keymap.ts'
import { ALL_KEYS, displayAccelerator } from './keymap.ts'

export const HELP_SECTIONS = ['Segment', 'Edit', 'Navigate', 'View', 'Project'] as const
export type HelpSection = (typeof HELP_SECTIONS)[number]

export interface HelpRow {
  /** Keys as shown, e.g. ['Ctrl+Z'] or ['1–9']. */
  keys: string[]
  label: string
  /** The keymap ids the row stands for. */
  ids: string[]
}

function sectionOf(id: string): HelpSection {
  if (id.startsWith('tool.') || id.startsWith('prompt.') || id.startsWith('category.')) return 'Segment'
  if (id === 'annotation.delete' || id === 'annotation.setCategory' || id.startsWith('edit.')) return 'Edit'
  if (id.startsWith('annotation.')) return 'Segment'
  if (id.startsWith('image.')) return 'Navigate'
  if (id.startsWith('view.')) return 'View'
  return 'Project'
}

export function helpSections(mac?: boolean): { section: HelpSection; rows: HelpRow[] }[] {
  const rows = new Map<HelpSection, HelpRow[]>(HELP_SECTIONS.map((section) => [section, []]))
  let categories: HelpRow | null = null
  for (const entry of ALL_KEYS) {
    if (entry.accelerator === null) continue
    const section = sectionOf(entry.id)
    if (entry.id.startsWith('category.')) {
      if (categories === null) {
        categories = { keys: ['1–9'], label: 'Pick a category (the n-th in the list)', ids: [] }
        rows.get(section)?.push(categories)
      }
      categories.ids.push(entry.id)
      continue
    }
    rows.get(section)?.push({
      keys: keysOf(entry).map((key) => displayAccelerator(key, mac)),
      label: entry.label,
      ids: [entry.id],
    })
  }
  return HELP_SECTIONS.map((section) => ({ section, rows: rows.get(section) ?? [] }))
}
