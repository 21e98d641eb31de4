// A value's text as written in a JSON document, found by its path (`['annotations', 17, 'bbox']`),
// for error messages. JSON.parse loses how a number was written: `1e400` becomes Infinity (which
// JSON.stringify prints as null), `-0` becomes 0, `12345678901234567890` loses its last digits.
// Node 20's JSON.parse offers no reviver with the source text, so the text is walked again, only
// when a message needs it: a scan over the (already parsed, so well-formed) text that skips
// values without building them, so it costs no memory beyond the text itself.

export type JsonPath = readonly (string | number)[]

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  return i
}

/** `i` is at a string's opening quote; returns the offset after its closing quote. */
function skipString(text: string, i: number): number {
  let j = i + 1
  for (;;) {
    const q = text.indexOf('"', j)
    if (q < 0) return text.length
    let backslashes = 0
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++
    if (backslashes % 2 === 0) return q + 1
    j = q + 1
  }
}

/** The end of a number, true, false or null starting at `i`. */
function skipScalar(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (isSpace(c) || c === 0x2c || c === 0x5d || c === 0x7d) break
    i++
  }
  return i
}

/** `i` is at a value's first character; returns the offset after it. Iterative: nesting costs no stack. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i)
  if (first === 0x22) return skipString(text, i)
  if (first !== 0x5b && first !== 0x7b) return skipScalar(text, i)
  let depth = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      i = skipString(text, i)
      continue
    }
    if (c === 0x5b || c === 0x7b) depth++
    else if ((c === 0x5d || c === 0x7d) && --depth === 0) return i + 1
    i++
  }
  return i
}

/**
 * Where the value at `path` starts in `text`, or -1 when there is none. A key given twice in an
 * object resolves to its last occurrence, as JSON.parse does.
 */
export function locateJsonValue(text: string, path: JsonPath): number {
  let i = skipSpace(text, text.charCodeAt(0) === 0xfeff ? 1 : 0)
  for (const step of path) {
    if (typeof step === 'number') {
      if (text[i] !== '[') return -1
      i = skipSpace(text, i + 1)
      if (text[i] === ']') return -1
      for (let k = 0; k < step; k++) {
        i = skipSpace(text, skipValue(text, i))
        if (text[i] !== ',') return -1
        i = skipSpace(text, i + 1)
      }
    } else {
      if (text[i] !== '{') return -1
      const quoted = JSON.stringify(step)
      let found = -1
      i = skipSpace(text, i + 1)
      while (text[i] === '"') {
        const end = skipString(text, i)
        const raw = text.slice(i, end)
        // Most keys have no escapes: compare the text; decode only when there is a backslash.
        const matches = raw === quoted || (raw.includes('\\') && JSON.parse(raw) === step)
        i = skipSpace(text, end)
        if (text[i] !== ':') return -1
        i = skipSpace(text, i + 1)
        if (matches) found = i
        i = skipSpace(text, skipValue(text, i))
        if (text[i] !== ',') break
        i = skipSpace(text, i + 1)
      }
      if (found < 0) return -1
      i = found
    }
  }
  return i < text.length ? i : -1
}

/**
 * The value starting at `start` as written, without the whitespace between tokens, cut after
 * about `max` characters. A list or object deeper than `maxDepth` is shown as `[...]` or `{...}`
 * (`[]`, `{}` when empty), so a value nested thousands of levels deep reads as its outline.
 */
export function jsonSourcePreview(text: string, start: number, max: number, maxDepth = Infinity): string {
  let out = ''
  let depth = 0
  let i = start
  while (i < text.length && out.length <= max) {
    const c = text.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    if (c === 0x5b || c === 0x7b) {
      if (depth >= maxDepth) {
        const close = c === 0x5b ? ']' : '}'
        const empty = text[skipSpace(text, i + 1)] === close
        out += empty ? `${text[i]}${close}` : `${text[i]}...${close}`
        i = skipValue(text, i)
        if (depth === 0) break
        continue
      }
      depth++
      out += text[i++]
      continue
    }
    if (c === 0x2c || c === 0x3a) {
      out += text[i++]
      continue
    }
    if (c === 0x5d || c === 0x7d) {
      depth--
      out += text[i++]
    } else {
      const end = c === 0x22 ? skipString(text, i) : skipScalar(text, i)
      out += text.slice(i, Math.min(end, i + max + 1 - out.length))
      i = end
    }
    if (depth <= 0) break
  }
  return out
}
