// Key presses map to commands through the one keymap table; text fields never trigger them.
import { describe, expect, it } from 'vitest'
import { KEYMAP, keysOf } from '../../../src-preload/contract/keymap.ts'
import { ALL_KEYS, commandFor, isTyping } from '../../../src-renderer/src/keymap.ts'

const press = (
  key: string,
  mods: Partial<{ ctrlKey: boolean; shiftKey: boolean; metaKey: boolean; altKey: boolean }> = {},
) => commandFor({ key, ctrlKey: false, shiftKey: false, metaKey: false, altKey: false, ...mods }, false)

describe('keymap', () => {
  it('reads the contract table: every entry with a key reaches its command', () => {
    for (const entry of KEYMAP) {
      if (entry.accelerator === null) continue
      expect(ALL_KEYS).toContain(entry)
    }
    expect(press('Enter')).toBe('annotation.accept')
    expect(press('d')).toBe('image.next')
    expect(press('z', { ctrlKey: true })).toBe('edit.undo')
    expect(press('Z', { ctrlKey: true, shiftKey: true })).toBe('edit.redo')
  })

  it('keys on both sides, candidates both ways, category digits, help', () => {
    expect(press('ArrowRight')).toBe('image.next')
    expect(press('ArrowLeft')).toBe('image.previous')
    expect(press('Tab')).toBe('annotation.nextCandidate')
    expect(press('Tab', { shiftKey: true })).toBe('annotation.previousCandidate')
    expect(press('D', { shiftKey: true })).toBe('image.nextUnannotated')
    expect(press('Home')).toBe('image.first')
    expect(press('End')).toBe('image.last')
    expect(press('g', { ctrlKey: true })).toBe('image.goTo')
    expect(press('f', { ctrlKey: true })).toBe('image.filterByName')
    expect(press('f')).toBe('annotation.accept')
    expect(press('3')).toBe('category.3')
    expect(press('?', { shiftKey: true })).toBe('view.shortcuts')
    expect(press('+', { shiftKey: true })).toBe('annotation.addMask')
    expect(press('=')).toBe('annotation.addMask')
    expect(press('-')).toBe('annotation.subtractMask')
    expect(press('=', { ctrlKey: true })).toBe('view.zoomIn')
    expect(press('-', { ctrlKey: true })).toBe('view.zoomOut')
    expect(press('x')).toBeNull()
  })

  it('no key is bound to two commands, alternatives included', () => {
    const seen = new Map<string, string>()
    for (const entry of ALL_KEYS) {
      for (const key of keysOf(entry)) {
        expect(seen.get(key), key).toBeUndefined()
        seen.set(key, entry.id)
      }
    }
  })

  it('typing in a text field is not a shortcut', () => {
    expect(isTyping({ tagName: 'INPUT', type: 'text' } as unknown as EventTarget)).toBe(true)
    expect(isTyping({ tagName: 'TEXTAREA' } as unknown as EventTarget)).toBe(true)
    expect(isTyping({ tagName: 'INPUT', type: 'checkbox' } as unknown as EventTarget)).toBe(false)
    expect(isTyping({ tagName: 'DIV', isContentEditable: true } as unknown as EventTarget)).toBe(true)
    expect(isTyping({ tagName: 'DIV', isContentEditable: false } as unknown as EventTarget)).toBe(false)
  })
})
