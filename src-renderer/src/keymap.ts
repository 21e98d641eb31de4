// Key presses → commands, from the contract's one keymap table (src-preload/contract/keymap.ts,
// which main's menu also reads): the help overlay lists the same table.
import {
  KEYMAP,
  keysOf,
  matchesAccelerator,
  type CommandId,
  type KeyPress,
  type KeymapCommand,
} from '../../src-preload/contract/keymap.ts'

/** Every shortcut: the help overlay lists exactly this. */
export const ALL_KEYS: readonly KeymapCommand[] = KEYMAP

export const IS_MAC = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform)

/** The command a key press means, or null (modifiers must match exactly: Shift+Tab is not Tab). */
export function commandFor(press: KeyPress, mac = IS_MAC): CommandId | null {
  for (const entry of ALL_KEYS) {
    if (keysOf(entry).some((accelerator) => matchesAccelerator(accelerator, press, mac))) return entry.id
  }
  return null
}

/** A key press aimed at a text field is typing, never a shortcut. */
export function isTyping(target: EventTarget | null): boolean {
  if (target === null || typeof (target as { tagName?: unknown }).tagName !== 'string') return false
  const element = target as HTMLElement
  const tag = element.tagName
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true
  if (tag === 'INPUT') {
    const type = (element as HTMLInputElement).type
    return !['checkbox', 'radio', 'button', 'submit', 'range', 'color'].includes(type)
  }
  return element.isContentEditable === true
}

/** How an accelerator reads in the help overlay on this platform. */
export function displayAccelerator(accelerator: string, mac = IS_MAC): string {
  return accelerator.replace('CmdOrCtrl', mac ? '⌘' : 'Ctrl')
}
