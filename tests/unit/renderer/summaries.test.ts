// The words after an import (shared by the CLI and the app) and after a rescan.
import { describe, expect, it } from 'vitest'
import type { ImportSummary } from '../../../src-preload/contract/export.ts'
import { importSummaryLines, scanSummaryText } from '../../../src-preload/contract/summaries.ts'

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
    const scan = {
      found: 5,
      added: 1,
      missing: 2,
      returned: 0,
      relinked: 1,
      changed: 0,
      pendingHeaders: 0,
      durationMs: 3,
    }
    expect(scanSummaryText(scan)).toBe('Rescanned: 5 image(s) found; 1 added, 2 missing, 1 relinked')
    expect(scanSummaryText({ ...scan, returned: 1, changed: 2 })).toBe(
      'Rescanned: 5 image(s) found; 1 added, 2 missing, 1 relinked, 1 back, 2 changed',
    )
  })
})
