// Reads a JSON document of the shape `{"key": [entry, entry, ...], ...}` from a file in chunks,
// handing over each entry of the top-level lists as its own text, so a COCO file of any size is
// read with memory for one chunk and one entry, never the whole file as one string (Node refuses
// strings over ~512 MB, and a parsed 200 MB file held several times its size).
//
// Only the outer two levels are tokenized here; an entry's text is found by counting brackets
// outside strings (iteratively: nesting costs no stack) and is parsed by the caller with
// JSON.parse, which checks it in full. A top-level value that is not a list is handed over as its
// text too. The file is expected to be valid UTF-8 already (coco-parse.ts checks it first).

import { open } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'

/** Bytes read at a time. Exported so a test can check that reading is incremental. */
export const JSON_READ_CHUNK = 1 << 20

export type JsonPiece =
  /** An entry of the list under `key`: its text as written. */
  | { kind: 'entry'; key: string; index: number; text: string }
  /** The list under `key` begins (`count` 0) or ends (`count` entries). */
  | { kind: 'list'; key: string; count: number; end: boolean }
  /**
   * A top-level value that is not a split list, as written; null when it is longer than
   * KEPT_VALUE_CHARS (then only its brackets were checked, and it was never held whole).
   */
  | { kind: 'value'; key: string; text: string | null }
  /** The first non-blank character is not `{`: what it is. */
  | { kind: 'not-object'; first: string }

/** A syntax error found by the tokenizer; `message` reads like JSON.parse's. */
export class JsonSyntaxError extends Error {}

export interface JsonStreamOptions {
  /** Bytes per read (default JSON_READ_CHUNK). */
  chunkSize?: number
  /** Top-level keys whose lists are split into entries; other keys' values are skipped, not kept. */
  lists: ReadonlySet<string>
  /** Called after each read with the bytes read so far. */
  onRead?: (bytes: number) => void
}

/** Longer top-level values (an `info` of megabytes?) are skipped, not kept for JSON.parse to check. */
const KEPT_VALUE_CHARS = 16 << 20

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

const enum State {
  Start,
  KeyOrEnd,
  Key,
  Colon,
  Value,
  ListEntryOrEnd,
  ListEntry,
  AfterListEntry,
  AfterValue,
  Done,
}

/**
 * The pieces of the document in file order. Throws JsonSyntaxError where the outer structure is
 * broken (an entry's own syntax is the caller's JSON.parse's to check).
 */
export async function* readJsonPieces(file: string, options: JsonStreamOptions): AsyncGenerator<JsonPiece> {
  const chunkSize = options.chunkSize ?? JSON_READ_CHUNK
  const handle = await open(file, 'r')
  try {
    const decoder = new StringDecoder('utf8')
    const chunk = Buffer.alloc(chunkSize)
    let text = ''
    let i = 0
    /** Characters dropped from the front of `text`: positions in messages count from the file's start. */
    let base = 0
    let bytes = 0
    let eof = false
    let state = State.Start
    let key = ''
    let index = 0
    let first = true
    // A value being collected: where it starts in `text`, and the scan's state inside it.
    let start = -1
    let depth = 0
    let inString = false
    let keep = true

    const fail = (what: string): JsonSyntaxError =>
      new JsonSyntaxError(
        i < text.length
          ? `Unexpected ${JSON.stringify(text[i])} ${what} at position ${base + i}`
          : `Unexpected end of JSON input (${what})`,
      )

    /**
     * Advances over one value from `start`; true when it ended (`i` just after it). Strings,
     * lists and objects end at their closing character; a number or word at the next delimiter,
     * which may need the next chunk.
     */
    const scanValue = (): boolean => {
      const n = text.length
      if (depth === 0 && !inString) {
        const c = text.charCodeAt(start)
        if (c === 0x22) {
          inString = true
          i = start + 1
        } else if (c === 0x5b || c === 0x7b) {
          depth = 1
          i = start + 1
        } else {
          while (i < n) {
            const d = text.charCodeAt(i)
            if (isSpace(d) || d === 0x2c || d === 0x5d || d === 0x7d) return true
            i++
          }
          return eof
        }
      }
      while (i < n) {
        if (inString) {
          const q = text.indexOf('"', i)
          if (q < 0) {
            i = n
            return false
          }
          let backslashes = 0
          while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++
          i = q + 1
          if (backslashes % 2 === 0) {
            inString = false
            if (depth === 0) return true
          }
          continue
        }
        const c = text.charCodeAt(i++)
        if (c === 0x22) inString = true
        else if (c === 0x5b || c === 0x7b) depth++
        else if ((c === 0x5d || c === 0x7d) && --depth === 0) return true
      }
      return false
    }

    const skipSpace = (): boolean => {
      while (i < text.length && isSpace(text.charCodeAt(i))) i++
      return i < text.length
    }

    for (;;) {
      // Refill: keep only what a value being collected still needs.
      const keepFrom = start >= 0 ? start : i
      if (keepFrom > 0) {
        text = text.slice(keepFrom)
        base += keepFrom
        i -= keepFrom
        if (start >= 0) start = 0
      }
      if (!eof) {
        const { bytesRead } = await handle.read(chunk, 0, chunkSize, bytes)
        bytes += bytesRead
        options.onRead?.(bytes)
        if (bytesRead === 0) {
          eof = true
          text += decoder.end()
        } else text += decoder.write(chunk.subarray(0, bytesRead))
        if (first && text.length > 0) {
          first = false
          if (text.charCodeAt(0) === 0xfeff) {
            text = text.slice(1)
            base = 1
          }
        }
      }
      let progressed = true
      while (progressed) {
        progressed = false
        switch (state) {
          case State.Start:
            if (!skipSpace()) break
            if (text[i] !== '{') {
              yield { kind: 'not-object', first: text[i] }
              return
            }
            i++
            state = State.KeyOrEnd
            progressed = true
            break
          case State.KeyOrEnd:
          case State.Key:
            if (!skipSpace()) break
            if (text[i] === '}' && state === State.KeyOrEnd) {
              i++
              state = State.Done
              progressed = true
              break
            }
            if (start < 0) {
              if (text[i] !== '"') throw fail('where a key was expected')
              start = i
              depth = 0
              inString = false
              i = start
            }
            if (!scanValue()) break
            try {
              key = JSON.parse(text.slice(start, i)) as string
            } catch (err) {
              throw new JsonSyntaxError(`${(err as Error).message.split('\n')[0]} (a key at position ${base + start})`)
            }
            start = -1
            state = State.Colon
            progressed = true
            break
          case State.Colon:
            if (!skipSpace()) break
            if (text[i] !== ':') throw fail('where ":" was expected')
            i++
            state = State.Value
            progressed = true
            break
          case State.Value:
            if (!skipSpace()) break
            if (start < 0 && text[i] === '[' && options.lists.has(key)) {
              i++
              index = 0
              yield { kind: 'list', key, count: 0, end: false }
              state = State.ListEntryOrEnd
              progressed = true
              break
            }
            if (start < 0) {
              const c = text[i]
              if (c === ',' || c === ']' || c === '}' || c === ':') throw fail('where a value was expected')
              start = i
              depth = 0
              inString = false
              keep = true
            }
            if (!scanValue()) {
              // A huge value (e.g. an `info` of megabytes) is never held whole: drop what is scanned so far.
              if (i - start > KEPT_VALUE_CHARS) keep = false
              if (!keep && !inString && depth > 0) {
                text = text.slice(i)
                base += i
                i = 0
                start = 0
              }
              break
            }
            yield { kind: 'value', key, text: keep ? text.slice(start, i) : null }
            start = -1
            state = State.AfterValue
            progressed = true
            break
          case State.ListEntryOrEnd:
          case State.ListEntry:
            if (!skipSpace()) break
            if (start < 0 && text[i] === ']' && state === State.ListEntryOrEnd) {
              i++
              yield { kind: 'list', key, count: index, end: true }
              state = State.AfterValue
              progressed = true
              break
            }
            if (start < 0) {
              const c = text[i]
              if (c === ',' || c === ']' || c === '}' || c === ':') throw fail('where a list entry was expected')
              start = i
              depth = 0
              inString = false
            }
            if (!scanValue()) break
            yield { kind: 'entry', key, index: index++, text: text.slice(start, i) }
            start = -1
            state = State.AfterListEntry
            progressed = true
            break
          case State.AfterListEntry:
            if (!skipSpace()) break
            if (text[i] === ',') state = State.ListEntry
            else if (text[i] === ']') {
              yield { kind: 'list', key, count: index, end: true }
              state = State.AfterValue
            } else throw fail('after a list entry')
            i++
            progressed = true
            break
          case State.AfterValue:
            if (!skipSpace()) break
            if (text[i] === ',') state = State.Key
            else if (text[i] === '}') state = State.Done
            else throw fail('after a value')
            i++
            progressed = true
            break
          case State.Done:
            if (skipSpace()) throw fail('after the end of the document')
            break
        }
      }
      if (eof) {
        if (state !== State.Done) throw fail('in the middle of the document')
        return
      }
    }
  } finally {
    await handle.close()
  }
}
