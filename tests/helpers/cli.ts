// Runs the CLI as a user does: a child process through bin/sam-annotator.js, capturing the
// exit code and both streams.

import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const ROOT = resolve(import.meta.dirname, '..', '..')
export const DEMO_MODEL = join(ROOT, 'models', 'demo')
const BIN = join(ROOT, 'bin', 'sam-annotator.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * `asUser` runs the child as that uid (and gid), with HOME set to `home`: root passes every
 * permission check, so a test of EACCES run as root needs another user (e.g. 65534, "nobody").
 */
export async function runCli(
  args: string[],
  options: { cwd?: string; asUser?: { uid: number; home: string } } = {},
): Promise<CliResult> {
  const user = options.asUser
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      maxBuffer: 64 << 20,
      ...(user ? { uid: user.uid, gid: user.uid, env: { ...process.env, HOME: user.home } } : {}),
    })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}
