// Starts one of main's worker threads from its script: in the built app a file electron-vite
// emits beside index.js; run from source (tests, the tsx-run CLI) the TypeScript module through
// tsx, since a worker thread has no TypeScript loader of its own.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/** Main's worker scripts, each an electron-vite entry of the same name. */
export type WorkerScript = 'geometry-worker' | 'inference-worker'

const SOURCES: Record<WorkerScript, string> = {
  'geometry-worker': './geometry/geometry-worker.ts',
  'inference-worker': './inference/inference-worker.ts',
}

export function startWorker(script: WorkerScript): Worker {
  const here = import.meta.url
  if (here.endsWith('.ts')) {
    const tsx = pathToFileURL(
      createRequire(here)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href
    const entry = new URL(SOURCES[script], here).href
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`
    return new Worker(boot, { eval: true })
  }
  // A variable, so the bundler does not take `new URL(…, import.meta.url)` for an asset.
  const file = `${script}.js`
  return new Worker(new URL(file, here))
}
