// The words after an import (shared by the CLI and the app) and after a rescan.
import { describe, expect, it } from 'vitest'
import type { ImportSummary } from '../../../src-preload/contract/export.ts'
import type { ScanSkipped, ScanSummary } from '../../../src-preload/contract/project.ts'
import { importSummaryLines, scanSkippedLines, scanSummaryText } from '../../../src-preload/contract/summaries.ts'

const base: ImportSummary = {
  file: '/data/labels.json',
  imported: 3,
  matchedImages: 2,
  skippedImages: [],
  categoriesCreated: [],
  skippedAnnotations: { onSkippedImages: 0, empty: 0, duplicates: 0 },
  durationMs: 12,
}

describe('importSummaryLines', () => {
  it('a clean import is one line', () => {
    expect(importSummaryLines(base)).toEqual([
      { text: 'imported 3 annotation(s) on 2 image(s) from /data/labels.json', warning: false },
    ])
  })

  it('new categories and duplicates are news; skipped images and empty annotations are warnings, at most 20 images named', () => {
    const skippedImages = Array.from({ length: 22 }, (_, i) => ({
      fileName: `g${i}.png`,
      reason: 'not-in-project' as const,
      detail: 'not here',
    }))
    const lines = importSummaryLines({
      ...base,
      categoriesCreated: ['cat', 'dog'],
      skippedImages,
      skippedAnnotations: { onSkippedImages: 30, empty: 2, duplicates: 4 },
    })
    expect(lines.filter((l) => !l.warning).map((l) => l.text)).toEqual([
      'imported 3 annotation(s) on 2 image(s) from /data/labels.json',
      'new categories: cat, dog',
      '4 annotation(s) were already in the project',
    ])
    const warnings = lines.filter((l) => l.warning).map((l) => l.text)
    expect(warnings[0]).toBe('skipped 22 image(s) and their 30 annotation(s):')
    expect(warnings.slice(1, 21)).toEqual(skippedImages.slice(0, 20).map((s) => `  ${s.fileName}: not here`))
    expect(warnings.slice(21)).toEqual(['  ... and 2 more', 'skipped 2 annotation(s) with nothing inside their image'])
  })
})

describe('scanSummaryText', () => {
  it('says what was added, went missing and was relinked; returns and changes only when there are any', () => {
    const scan: ScanSummary = {
      found: 5,
      added: 1,
      missing: 2,
      returned: 0,
      relinked: 1,
      changed: 0,
      pendingHeaders: 0,
      skipped: [],
      durationMs: 3,
    }
    expect(scanSummaryText(scan)).toBe('Rescanned: 5 image(s) found; 1 added, 2 missing, 1 relinked')
    expect(scanSummaryText({ ...scan, returned: 1, changed: 2 })).toBe(
      'Rescanned: 5 image(s) found; 1 added, 2 missing, 1 relinked, 1 back, 2 changed',
    )
  })
})

describe('what a scan skipped', () => {
  const scan: ScanSummary = {
    found: 2,
    added: 2,
    missing: 0,
    returned: 0,
    relinked: 0,
    changed: 0,
    pendingHeaders: 2,
    skipped: [],
    durationMs: 3,
  }
  const skipped = (n: number): ScanSkipped[] =>
    Array.from({ length: n }, (_, i) => ({
      path: `bad\\xFF${i}.png`,
      reason: 'name-not-utf8' as const,
      detail: 'the file name is not valid UTF-8',
    }))

  it('nothing skipped: no lines, and the rescan line as before', () => {
    expect(scanSkippedLines(scan)).toEqual([])
    expect(scanSummaryText(scan)).toBe('Rescanned: 2 image(s) found; 2 added, 0 missing, 0 relinked')
  })

  it('names what was skipped and why: up to 20 in the CLI lines, 3 in the rescan line, the count in both', () => {
    const lines = scanSkippedLines({ ...scan, skipped: skipped(22) })
    expect(lines.every((l) => l.warning)).toBe(true)
    expect(lines[0].text).toBe('skipped 22 file(s) or folder(s) the scan cannot list:')
    expect(lines[1].text).toBe('  bad\\xFF0.png: the file name is not valid UTF-8')
    expect(lines).toHaveLength(22)
    expect(lines[21].text).toBe('  ... and 2 more')
    expect(scanSummaryText({ ...scan, skipped: skipped(1) })).toBe(
      'Rescanned: 2 image(s) found; 2 added, 0 missing, 0 relinked; skipped 1 file(s) or folder(s) the scan cannot list (bad\\xFF0.png: the file name is not valid UTF-8)',
    )
    expect(scanSummaryText({ ...scan, skipped: skipped(5) })).toMatch(
      /; skipped 5 file\(s\) or folder\(s\) the scan cannot list \(bad\\xFF0\.png: .*; bad\\xFF2\.png: the file name is not valid UTF-8; \.\.\. and 2 more\)$/,
    )
  })
})
