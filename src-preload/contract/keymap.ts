// The one keymap: every command's shortcut, in Electron accelerator syntax. Main builds the
// application menu from it; the renderer matches key presses against the same table (via
// `matchesAccelerator`) and its help overlay lists it, so menu, keys and help never disagree.
// Runtime-neutral: plain data and a pure matcher.

export type MenuName = 'file' | 'edit' | 'view' | 'image' | 'annotation'

export interface KeymapEntry<Id extends string = string> {
  readonly id: Id
  readonly label: string
  /** Electron accelerator, e.g. 'CmdOrCtrl+O', 'D', 'Escape'; null: no shortcut. The menu shows this one. */
  readonly accelerator: string | null
  /** More keys for the same command (keys on both sides of the keyboard); the renderer matches them too. */
  readonly alternatives?: readonly string[]
  /** The menu it appears in; null: keyboard only. */
  readonly menu: MenuName | null
  /** main: carried out in main (dialogs, window); renderer: sent to it as a `menu` event. */
  readonly handler: 'main' | 'renderer'
}

/** Keys 1-9 pick the n-th category. */
export const CATEGORY_NUMBERS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const
export type CategoryNumber = (typeof CATEGORY_NUMBERS)[number]

export const KEYMAP = [
  { id: 'project.open', label: 'Open Folder…', accelerator: 'CmdOrCtrl+O', menu: 'file', handler: 'main' },
  { id: 'export.coco', label: 'Export COCO…', accelerator: 'CmdOrCtrl+E', menu: 'file', handler: 'renderer' },
  { id: 'export.yolo', label: 'Export YOLO…', accelerator: null, menu: 'file', handler: 'renderer' },
  { id: 'import.coco', label: 'Import COCO…', accelerator: 'CmdOrCtrl+I', menu: 'file', handler: 'renderer' },
  { id: 'project.rescan', label: 'Rescan Folder', accelerator: 'F5', menu: 'file', handler: 'renderer' },
  { id: 'edit.undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z', menu: 'edit', handler: 'renderer' },
  {
    id: 'edit.redo',
    label: 'Redo',
    accelerator: 'CmdOrCtrl+Shift+Z',
    alternatives: ['CmdOrCtrl+Y'],
    menu: 'edit',
    handler: 'renderer',
  },
  { id: 'view.fit', label: 'Fit Image', accelerator: 'CmdOrCtrl+0', menu: 'view', handler: 'renderer' },
  { id: 'view.actualSize', label: 'Actual Size (1:1)', accelerator: 'CmdOrCtrl+1', menu: 'view', handler: 'renderer' },
  { id: 'view.zoomIn', label: 'Zoom In', accelerator: 'CmdOrCtrl+=', menu: 'view', handler: 'renderer' },
  { id: 'view.zoomOut', label: 'Zoom Out', accelerator: 'CmdOrCtrl+-', menu: 'view', handler: 'renderer' },
  { id: 'view.toggleAnnotations', label: 'Show/Hide Annotations', accelerator: 'H', menu: 'view', handler: 'renderer' },
  {
    id: 'view.shortcuts',
    label: 'Keyboard Shortcuts',
    accelerator: 'F1',
    alternatives: ['?'],
    menu: 'view',
    handler: 'renderer',
  },
  {
    id: 'image.next',
    label: 'Next Image',
    accelerator: 'D',
    alternatives: ['Right'],
    menu: 'image',
    handler: 'renderer',
  },
  {
    id: 'image.previous',
    label: 'Previous Image',
    accelerator: 'A',
    alternatives: ['Left'],
    menu: 'image',
    handler: 'renderer',
  },
  { id: 'image.first', label: 'First Image (of the list)', accelerator: 'Home', menu: 'image', handler: 'renderer' },
  { id: 'image.last', label: 'Last Image (of the list)', accelerator: 'End', menu: 'image', handler: 'renderer' },
  { id: 'image.goTo', label: 'Go to Image Number…', accelerator: 'CmdOrCtrl+G', menu: 'image', handler: 'renderer' },
  {
    id: 'image.filterByName',
    label: 'Filter Images by Name',
    accelerator: 'CmdOrCtrl+F',
    menu: 'image',
    handler: 'renderer',
  },
  {
    id: 'image.nextUnannotated',
    label: 'Next Image Without Annotations',
    accelerator: 'Shift+D',
    menu: 'image',
    handler: 'renderer',
  },
  { id: 'image.markDone', label: 'Mark Image Done', accelerator: 'CmdOrCtrl+D', menu: 'image', handler: 'renderer' },
  {
    id: 'image.markSkipped',
    label: 'Mark Image Skipped',
    accelerator: 'CmdOrCtrl+Shift+S',
    menu: 'image',
    handler: 'renderer',
  },
  { id: 'tool.sam', label: 'Segment Tool', accelerator: 'S', menu: 'annotation', handler: 'renderer' },
  { id: 'tool.box', label: 'Box Prompt (one drag)', accelerator: 'B', menu: 'annotation', handler: 'renderer' },
  { id: 'tool.select', label: 'Select Tool', accelerator: 'V', menu: 'annotation', handler: 'renderer' },
  { id: 'tool.polygon', label: 'Polygon Tool', accelerator: 'P', menu: 'annotation', handler: 'renderer' },
  {
    id: 'prompt.positive',
    label: 'Positive Point at Cursor',
    accelerator: 'Q',
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'prompt.negative',
    label: 'Negative Point at Cursor',
    accelerator: 'W',
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'prompt.removeLast',
    label: 'Remove Last Point',
    accelerator: 'Backspace',
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'annotation.accept',
    label: 'Accept Mask',
    accelerator: 'Enter',
    alternatives: ['F'],
    menu: 'annotation',
    handler: 'renderer',
  },
  { id: 'annotation.cancel', label: 'Cancel Prompt', accelerator: 'Escape', menu: 'annotation', handler: 'renderer' },
  {
    id: 'annotation.nextCandidate',
    label: 'Next Candidate Mask',
    accelerator: 'Tab',
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'annotation.previousCandidate',
    label: 'Previous Candidate Mask',
    accelerator: 'Shift+Tab',
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'annotation.addMask',
    label: 'Add Mask to Selection',
    accelerator: 'Plus',
    alternatives: ['='],
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'annotation.subtractMask',
    label: 'Cut Mask from Selection',
    accelerator: '-',
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'annotation.setCategory',
    label: 'Give Selection the Active Category',
    accelerator: 'C',
    menu: 'annotation',
    handler: 'renderer',
  },
  {
    id: 'annotation.delete',
    label: 'Delete Annotation',
    accelerator: 'Delete',
    alternatives: ['CmdOrCtrl+Backspace'],
    menu: 'annotation',
    handler: 'renderer',
  },
  ...CATEGORY_NUMBERS.map((n) => ({
    id: `category.${n}` as const,
    label: `Category ${n}`,
    accelerator: String(n),
    menu: null,
    handler: 'renderer' as const,
  })),
] as const satisfies readonly KeymapEntry[]

/**
 * Every command there is: the menu's item ids, the `menu` event's payload and the renderer's
 * command table are all typed by it, so a command without a handler does not compile.
 */
export type CommandId = (typeof KEYMAP)[number]['id']
/** A keymap entry of this table (its id a CommandId). */
export type KeymapCommand = KeymapEntry<CommandId>

export interface ParsedAccelerator {
  /** KeyboardEvent.key, letters in upper case. */
  key: string
  /** Cmd on macOS, Ctrl elsewhere. */
  cmdOrCtrl: boolean
  ctrl: boolean
  cmd: boolean
  shift: boolean
  alt: boolean
}

const KEY_NAMES: Record<string, string> = {
  left: 'ArrowLeft',
  right: 'ArrowRight',
  up: 'ArrowUp',
  down: 'ArrowDown',
  esc: 'Escape',
  escape: 'Escape',
  return: 'Enter',
  enter: 'Enter',
  delete: 'Delete',
  backspace: 'Backspace',
  tab: 'Tab',
  space: ' ',
  plus: '+',
  home: 'Home',
  end: 'End',
  pageup: 'PageUp',
  pagedown: 'PageDown',
}

export function parseAccelerator(accelerator: string): ParsedAccelerator {
  // The key is after the last '+', except in 'CmdOrCtrl++' where the key is '+' itself.
  const plusKey = accelerator === '+' || accelerator.endsWith('++')
  const cut = plusKey ? accelerator.length - 1 : accelerator.lastIndexOf('+') + 1
  const keyPart = accelerator.slice(cut)
  const modifiers = cut <= 1 ? [] : accelerator.slice(0, cut - 1).split('+')
  const parsed: ParsedAccelerator = { key: '', cmdOrCtrl: false, ctrl: false, cmd: false, shift: false, alt: false }
  for (const modifier of modifiers) {
    switch (modifier.toLowerCase()) {
      case 'cmdorctrl':
      case 'commandorcontrol':
        parsed.cmdOrCtrl = true
        break
      case 'ctrl':
      case 'control':
        parsed.ctrl = true
        break
      case 'cmd':
      case 'command':
      case 'super':
      case 'meta':
        parsed.cmd = true
        break
      case 'shift':
        parsed.shift = true
        break
      case 'alt':
      case 'option':
        parsed.alt = true
        break
      default:
        throw new Error(`accelerator ${accelerator}: unknown modifier ${modifier}`)
    }
  }
  const named = KEY_NAMES[keyPart.toLowerCase()]
  parsed.key = named ?? (keyPart.length === 1 ? keyPart.toUpperCase() : keyPart)
  if (parsed.key === '') throw new Error(`accelerator ${accelerator}: no key`)
  return parsed
}

export interface KeyPress {
  key: string
  ctrlKey: boolean
  metaKey: boolean
  shiftKey: boolean
  altKey: boolean
}

/** Every key of an entry: its accelerator first, then its alternatives. */
export function keysOf(entry: KeymapEntry): string[] {
  return entry.accelerator === null ? [] : [entry.accelerator, ...(entry.alternatives ?? [])]
}

/** Whether a key press (a KeyboardEvent) is this accelerator; `mac` decides what CmdOrCtrl means. */
export function matchesAccelerator(accelerator: string, press: KeyPress, mac: boolean): boolean {
  const want = parseAccelerator(accelerator)
  const key = press.key.length === 1 ? press.key.toUpperCase() : press.key
  const ctrl = want.ctrl || (want.cmdOrCtrl && !mac)
  const cmd = want.cmd || (want.cmdOrCtrl && mac)
  // Shift changes the key of symbols ('=' becomes '+'), so shift is only compared for letters and named keys.
  const shiftMatters = want.key.length !== 1 || /[A-Z]/.test(want.key)
  return (
    key === want.key &&
    press.ctrlKey === ctrl &&
    press.metaKey === cmd &&
    press.altKey === want.alt &&
    (!shiftMatters || press.shiftKey === want.shift)
  )
}

/**
 * A shortcut without Ctrl/Cmd/Alt ('D', 'Enter'): the menu shows it but must not register it,
 * or typing that letter into a text field would trigger the command; the renderer handles it.
 */
export function isBareKey(accelerator: string): boolean {
  const parsed = parseAccelerator(accelerator)
  return !parsed.cmdOrCtrl && !parsed.ctrl && !parsed.cmd && !parsed.alt
}
