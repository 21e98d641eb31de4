// What an import or a rescan did, in words. The CLI prints the import lines after
// `import --coco` and the app shows them after Import COCO…, so both say the same thing; the
// same holds for what a scan skipped (the CLI after any scan, the app after Rescan Folder).
// Runtime-neutral (plain strings).
import type { ImportSummary } from './export.ts'
import type { ScanSummary } from './project.ts'

export interface SummaryLine {
  text: string
  /** Something was left out: the CLI writes it to stderr, the app marks it. */
  warning: boolean
}

/** Skipped images named one per line, at most this many. */
const SKIPPED_LISTED = 20

export function importSummaryLines(result: ImportSummary): SummaryLine[] {
  const lines: SummaryLine[] = []
  const say = (text: string) => lines.push({ text, warning: false })
  const warn = (text: string) => lines.push({ text, warning: true })
  const s = result.skippedAnnotations
  say(`imported ${result.imported} annotation(s) on ${result.matchedImages} image(s) from ${result.file}`)
  if (result.categoriesCreated.length > 0) say(`new categories: ${result.categoriesCreated.join(', ')}`)
  if (s.duplicates > 0) say(`${s.duplicates} annotation(s) were already in the project`)
  if (result.skippedImages.length > 0) {
    warn(`skipped ${result.skippedImages.length} image(s) and their ${s.onSkippedImages} annotation(s):`)
    for (const image of result.skippedImages.slice(0, SKIPPED_LISTED)) warn(`  ${image.fileName}: ${image.detail}`)
    if (result.skippedImages.length > SKIPPED_LISTED)
      warn(`  ... and ${result.skippedImages.length - SKIPPED_LISTED} more`)
  }
  if (s.empty > 0) warn(`skipped ${s.empty} annotation(s) with nothing inside their image`)
  return lines
}

/** Skipped entries the one-line rescan message names before "...". */
const SKIPPED_IN_LINE = 3

function skippedHeadline(count: number): string {
  return `skipped ${count} file(s) or folder(s) the scan cannot list`
}

/** What a scan could not list (names that are not UTF-8, folders it may not read): warnings, at most 20 named. */
export function scanSkippedLines(scan: ScanSummary): SummaryLine[] {
  const skipped = scan.skipped
  if (skipped.length === 0) return []
  const lines: SummaryLine[] = [{ text: `${skippedHeadline(skipped.length)}:`, warning: true }]
  for (const s of skipped.slice(0, SKIPPED_LISTED)) lines.push({ text: `  ${s.path}: ${s.detail}`, warning: true })
  if (skipped.length > SKIPPED_LISTED)
    lines.push({ text: `  ... and ${skipped.length - SKIPPED_LISTED} more`, warning: true })
  return lines
}

/** One line after Rescan Folder: what the scan found that was not known before, and what it skipped. */
export function scanSummaryText(scan: ScanSummary): string {
  const parts = [`${scan.added} added`, `${scan.missing} missing`, `${scan.relinked} relinked`]
  if (scan.returned > 0) parts.push(`${scan.returned} back`)
  if (scan.changed > 0) parts.push(`${scan.changed} changed`)
  let text = `Rescanned: ${scan.found} image(s) found; ${parts.join(', ')}`
  if (scan.skipped.length > 0) {
    const named = scan.skipped.slice(0, SKIPPED_IN_LINE).map((s) => `${s.path}: ${s.detail}`)
    if (scan.skipped.length > SKIPPED_IN_LINE) named.push(`... and ${scan.skipped.length - SKIPPED_IN_LINE} more`)
    text += `; ${skippedHeadline(scan.skipped.length)} (${named.join('; ')})`
  }
  return text
}
