// The help overlay's sections: the keymap table grouped by task, complete, each key shown once.
import { describe, expect, it } from 'vitest'
import { KEYMAP } from '../../../src-preload/contract/keymap.ts'
import { HELP_SECTIONS, helpSections } from '../../../src-renderer/src/help.ts'

describe('help sections', () => {
  const sections = helpSections(false)
  const ids = sections.flatMap(({ rows }) => rows.flatMap((row) => row.ids))

  it('lists every entry with a key exactly once, in the five task sections', () => {
    expect(sections.map(({ section }) => section)).toEqual([...HELP_SECTIONS])
    const keyed = KEYMAP.filter((entry) => entry.accelerator !== null).map((entry) => entry.id)
    expect([...ids].sort()).toEqual([...keyed].sort())
    expect(new Set(ids).size).toBe(ids.length)
    for (const { rows } of sections) expect(rows.length).toBeGreaterThan(0)
  })

  it('folds the nine category keys into one 1–9 row under Segment', () => {
    const segment = sections.find(({ section }) => section === 'Segment')!.rows
    const categories = segment.filter((row) => row.ids.some((id) => id.startsWith('category.')))
    expect(categories).toHaveLength(1)
    expect(categories[0].keys).toEqual(['1–9'])
    expect(categories[0].ids).toHaveLength(9)
  })

  it('puts tasks where a user looks for them', () => {
    const sectionOf = (id: string) => sections.find(({ rows }) => rows.some((row) => row.ids.includes(id)))?.section
    expect(sectionOf('annotation.accept')).toBe('Segment')
    expect(sectionOf('edit.undo')).toBe('Edit')
    expect(sectionOf('annotation.delete')).toBe('Edit')
    expect(sectionOf('image.next')).toBe('Navigate')
    expect(sectionOf('view.fit')).toBe('View')
    expect(sectionOf('export.coco')).toBe('Project')
    const undo = sections.flatMap(({ rows }) => rows).find((row) => row.ids[0] === 'edit.undo')
    expect(undo?.keys).toEqual(['Ctrl+Z'])
  })
})
