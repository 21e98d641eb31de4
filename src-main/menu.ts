// The application menu, built from the keymap table (src-preload/contract/keymap.ts) so its
// accelerators are the renderer's shortcuts. Shortcuts without Ctrl/Cmd/Alt are shown but not
// registered (registerAccelerator: false): a registered 'D' would fire while typing a category
// name; the renderer handles those keys itself. Pure: returns a template; index.ts gives it to
// Menu.buildFromTemplate with the click handlers.
import { isBareKey, KEYMAP, type CommandId, type KeymapCommand, type MenuName } from '../src-preload/contract/keymap.ts'

/** The subset of Electron's MenuItemConstructorOptions the template uses. */
export interface MenuItemTemplate {
  id?: CommandId
  label?: string
  role?:
    | 'appMenu'
    | 'quit'
    | 'cut'
    | 'copy'
    | 'paste'
    | 'selectAll'
    | 'toggleDevTools'
    | 'togglefullscreen'
    | 'windowMenu'
    | 'about'
  type?: 'separator'
  accelerator?: string
  registerAccelerator?: boolean
  submenu?: MenuItemTemplate[]
}

const MENU_LABELS: Record<MenuName, string> = {
  file: 'File',
  edit: 'Edit',
  view: 'View',
  image: 'Image',
  annotation: 'Annotation',
}

function commandItem(entry: KeymapCommand): MenuItemTemplate {
  const item: MenuItemTemplate = { id: entry.id, label: entry.label }
  if (entry.accelerator !== null) {
    item.accelerator = entry.accelerator
    if (isBareKey(entry.accelerator)) item.registerAccelerator = false
  }
  return item
}

export function buildMenuTemplate(options: {
  platform: string
  devTools: boolean
  keymap?: readonly KeymapCommand[]
}): MenuItemTemplate[] {
  const keymap = options.keymap ?? KEYMAP
  const mac = options.platform === 'darwin'
  const items = (menu: MenuName): MenuItemTemplate[] => keymap.filter((entry) => entry.menu === menu).map(commandItem)
  const separator: MenuItemTemplate = { type: 'separator' }

  const template: MenuItemTemplate[] = []
  if (mac) template.push({ role: 'appMenu' })
  template.push({
    label: MENU_LABELS.file,
    submenu: [...items('file'), ...(mac ? [] : [separator, { role: 'quit' as const }])],
  })
  // Text fields still need clipboard shortcuts, which on macOS exist only through menu roles.
  template.push({
    label: MENU_LABELS.edit,
    submenu: [...items('edit'), separator, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  })
  template.push({
    label: MENU_LABELS.view,
    submenu: [
      ...items('view'),
      separator,
      { role: 'togglefullscreen' },
      ...(options.devTools ? [{ role: 'toggleDevTools' as const }] : []),
    ],
  })
  template.push({ label: MENU_LABELS.image, submenu: items('image') })
  template.push({ label: MENU_LABELS.annotation, submenu: items('annotation') })
  if (mac) template.push({ role: 'windowMenu' })
  return template
}

/** Every command item of a template, depth first (tests and click wiring walk it). */
export function commandItems(template: readonly MenuItemTemplate[]): MenuItemTemplate[] {
  return template.flatMap((item) => [...(item.id !== undefined ? [item] : []), ...commandItems(item.submenu ?? [])])
}
