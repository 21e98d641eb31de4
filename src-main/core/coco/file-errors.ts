// File-system failures of the exporters as errors the user can act on, each naming the file.
// "nothing was written" appears only where the caller guarantees it: the exporters call this
// before their commit point, or after a rollback that restored the previous export.

import { UserError } from '../errors.ts'

/** Maps file-system failures to a UserError that names the file; anything else passes through. */
export function fileError(file: string, what: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new UserError(
      'disk-full',
      `the disk is full${code === 'EDQUOT' ? ' (quota exceeded)' : ''} (${file}): nothing was written`,
      { cause: err },
    )
  if (code === 'ENAMETOOLONG')
    return new UserError('write-folder', `${file}: the name is too long for this file system; nothing was written`, {
      cause: err,
    })
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new UserError('write-denied', `${file}: cannot ${what} (permission denied)`, { cause: err })
  }
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new UserError('write-folder', `${file}: cannot ${what} (the folder does not exist)`, { cause: err })
  if (code === 'EISDIR') return new UserError('write-folder', `${file}: is a folder, not a file`, { cause: err })
  return err
}
