// Messages: the one line the app tells the user (status bar, welcome screen), and `guard`,
// which runs work and shows its failure there.
import { describeError } from '../api.ts'

export interface Message {
  text: string
  kind: 'info' | 'error'
}

export class Messages {
  message = $state<Message | null>(null)

  /** `projectSeq` reads the project counter (Projects.seq): failures of an earlier project are not shown. */
  constructor(private readonly projectSeq: () => number) {}

  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message = { text, kind }
  }

  clear(): void {
    this.message = null
  }

  /**
   * Runs work and shows its failure as the message, unless the project changed meanwhile: then
   * it is news of a project no longer shown. Opening and closing change the project themselves
   * (`switching`), so their failures always show.
   */
  async guard<T>(work: () => Promise<T>, options: { switching?: boolean } = {}): Promise<T | undefined> {
    const seq = this.projectSeq()
    try {
      return await work()
    } catch (err) {
      if (options.switching === true || seq === this.projectSeq()) this.say(describeError(err), 'error')
      return undefined
    }
  }
}
