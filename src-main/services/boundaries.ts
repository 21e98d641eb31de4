// The process boundaries main's services are given: native dialogs and the event channel to the
// renderer. Electron's in the app; scripted stand-ins in tests.
import type { EventName, EventPayloads } from '../../src-preload/contract/events.ts'

export type EventSink = <E extends EventName>(name: E, payload: EventPayloads[E]) => void

export interface FileFilter {
  name: string
  extensions: string[]
}

/** Native dialogs (Electron's `dialog` in the app). Each resolves null when cancelled. */
export interface Dialogs {
  chooseFolder(options: { title: string }): Promise<string | null>
  chooseSaveFile(options: { title: string; defaultPath: string; filters: FileFilter[] }): Promise<string | null>
  chooseOpenFile(options: { title: string; filters: FileFilter[] }): Promise<string | null>
}
