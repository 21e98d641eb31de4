// Watching the event loop while work runs, for tests and benches of "never blocks": a timer
// ticks every `intervalMs`; the longest gap between ticks is the longest stall. Work done in line
// on this thread is one gap as long as itself, with no tick in it.

export interface EventLoopWatch<T> {
  value: T
  /** Timer ticks while the work ran. */
  ticks: number
  /** Longest gap between two ticks (or before the work ended), milliseconds. */
  maxGapMs: number
  /** Wall time of the work, milliseconds. */
  tookMs: number
}

export async function watchEventLoop<T>(work: () => Promise<T>, intervalMs = 2): Promise<EventLoopWatch<T>> {
  let ticks = 0
  let last = performance.now()
  let maxGapMs = 0
  const timer = setInterval(() => {
    const now = performance.now()
    maxGapMs = Math.max(maxGapMs, now - last)
    last = now
    ticks++
  }, intervalMs)
  const start = performance.now()
  try {
    const value = await work()
    const end = performance.now()
    maxGapMs = Math.max(maxGapMs, end - last)
    return { value, ticks, maxGapMs, tookMs: end - start }
  } finally {
    clearInterval(timer)
  }
}
