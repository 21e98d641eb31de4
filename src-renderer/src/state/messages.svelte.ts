// Messages: the one line the app tells the user (status bar, welcome screen), and `guard`,
// which runs work and shows its failure there.
import { describeError } from '../api.ts'

export interface Message {
  text: string
  kind: 'info' | 'error'
}

/**
 * How long a message stays. A message is news about the step just taken; one left standing
 * reads as news about whatever the user does next. Errors stay longer, to be read.
 */
export const MESSAGE_MS = { info: 6_000, error: 12_000 } as const

export class Messages {
  message = $state<Message | null>(null)
  private expiry: ReturnType<typeof setTimeout> | null = null
  /** Counts messages said; the expiry of an earlier one must not take a later one away. */
  private said = 0

  /** `projectSeq` reads the project counter (Projects.seq): failures of an earlier project are not shown. */
  constructor(private readonly projectSeq: () => number) {}

  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message = { text, kind }
    const said = ++this.said
    if (this.expiry !== null) clearTimeout(this.expiry)
    this.expiry = setTimeout(() => {
      if (this.said === said) this.message = null
    }, MESSAGE_MS[kind])
  }

  clear(): void {
    this.said++
    if (this.expiry !== null) clearTimeout(this.expiry)
    this.expiry = null
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
