// Undo is a stack of commands: undo reverts the last, redo re-applies, a new command drops redo,
// a failing revert leaves the stack as it was.
import { describe, expect, it } from 'vitest'
import { History, type Command } from '../../../src-renderer/src/state/history.ts'

function counter(log: string[], name: string, failRevert = false): Command {
  return {
    label: name,
    apply: async () => void log.push(`+${name}`),
    revert: async () => {
      if (failRevert) throw new Error(`cannot revert ${name}`)
      log.push(`-${name}`)
    },
  }
}

describe('History', () => {
  it('undoes and redoes in order; a new command clears redo', async () => {
    const log: string[] = []
    const history = new History()
    await history.run(counter(log, 'a'))
    await history.run(counter(log, 'b'))
    expect(await history.undo()).toBe(true)
    expect(await history.undo()).toBe(true)
    expect(await history.undo()).toBe(false)
    expect(await history.redo()).toBe(true)
    expect(log).toEqual(['+a', '+b', '-b', '-a', '+a'])
    expect(history.canRedo).toBe(true)
    await history.run(counter(log, 'c'))
    expect(history.canRedo).toBe(false)
    expect(history.undoLabel).toBe('c')
  })

  it('a failed revert keeps the command on the undo stack', async () => {
    const log: string[] = []
    const history = new History()
    await history.run(counter(log, 'x', true))
    await expect(history.undo()).rejects.toThrow(/cannot revert x/)
    expect(history.canUndo).toBe(true)
    expect(history.canRedo).toBe(false)
  })

  it('runs calls one at a time even when started together', async () => {
    const log: string[] = []
    const history = new History()
    const slow: Command = {
      label: 'slow',
      apply: () => new Promise((done) => setTimeout(() => done(void log.push('slow')), 30)),
      revert: async () => {},
    }
    await Promise.all([history.run(slow), history.run(counter(log, 'fast'))])
    expect(log).toEqual(['slow', '+fast'])
  })

  it('once closed (another project opened), queued and later calls never reach the store', async () => {
    const log: string[] = []
    const history = new History()
    await history.run(counter(log, 'a'))
    let release: () => void = () => {}
    const slow: Command = {
      label: 'slow',
      apply: () => new Promise((done) => (release = () => done(void log.push('+slow')))),
      revert: async () => {},
    }
    const running = history.run(slow)
    const queued = history.undo()
    await new Promise((done) => setTimeout(done, 0))
    history.close()
    release()
    await running
    await expect(queued).rejects.toThrow(/no longer open/)
    await expect(history.undo()).rejects.toThrow(/no longer open/)
    await expect(history.run(counter(log, 'b'))).rejects.toThrow(/no longer open/)
    expect(history.canUndo).toBe(false)
    expect(log).toEqual(['+a', '+slow'])
    await history.settled()
  })
})
