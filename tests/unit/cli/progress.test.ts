// Long CLI operations draw a progress bar on a terminal and write nothing when stderr is a
// pipe or a file, so logs stay clean.

import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { progressBar } from '../../../src-main/cli/progress.ts'

function stream(isTTY: boolean): { stream: NodeJS.WriteStream; written: () => string } {
  const chunks: string[] = []
  const s = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk))
      done()
    },
  }) as unknown as NodeJS.WriteStream
  Object.assign(s, { isTTY, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true })
  return { stream: s, written: () => chunks.join('') }
}

describe('progress bar', () => {
  it('draws label, counts and ETA on a terminal', () => {
    const tty = stream(true)
    const bar = progressBar('exporting', tty.stream)
    bar.update(0, 200)
    bar.update(100, 200)
    bar.stop()
    expect(tty.written()).toMatch(/exporting/)
    expect(tty.written()).toMatch(/100\/200/)
    expect(tty.written()).toMatch(/ETA/)
  })

  it('writes nothing when the output is not a terminal', () => {
    const pipe = stream(false)
    const bar = progressBar('exporting', pipe.stream)
    bar.update(0, 200)
    bar.update(200, 200)
    bar.stop()
    expect(pipe.written()).toBe('')
  })
})
