// The bytes of one disk cache entry: an embedding plus what it was computed from, with a
// checksum over everything so a damaged entry is recognised and never served.
//
// Layout (little-endian):
//   0   8 bytes   magic 'SAMEMB01'
//   8   u32       header length L (a multiple of 4, so the tensors start 4-byte aligned)
//   12  32 bytes  sha256 of bytes [44, end): header and tensors
//   44  L bytes   header, UTF-8 JSON padded with spaces (see EntryHeader)
//   44+L          imageEmbed, highResFeats0, highResFeats1, each float16 or float32
//
// The file's exact size follows from the header, so a truncated file is refused before any
// hashing; a flipped bit anywhere (the size in the header included) fails the checksum.
//
// What the checksum is not: a signature. It is an unkeyed sha256, so anyone who can write an
// entry (a cache folder shipped with the images, from another machine) can also write a
// matching checksum; it catches damage, never tampering. What protects us instead is that an
// entry's content is not believed, only cross-checked: its key fields must equal the lookup's
// (the image's content hash, the model key, the preprocessing version), its width and height
// must equal the image's real oriented size (read from the image's header by the caller), and
// its tensors must have exactly the sizes of the model interface; any disagreement is a miss,
// recomputed and overwritten. What a poisoned entry that passes all of that can still do is
// change the features, so the masks of that one image are worse: every shape decoded from it
// is in the image's real frame and bounded by its real size.

import { createHash, webcrypto } from 'node:crypto'
import { ENCODER_OUTPUTS } from '../segment/model-interface.ts'
import type { Embedding } from '../segment/prompt.ts'
import { fromFloat16, toFloat16 } from './float16.ts'
import { sharedFloat32 } from '../shared-arrays.ts'
import { parseRegionKey } from '../segment/region.ts'

export type StorageType = 'float16' | 'float32'

/** What an entry was computed from: all of it must match for the entry to be used. */
export interface EntryKey {
  /** sha256 (hex) of the image file's bytes. */
  contentHash: string
  /** The model's id plus a fingerprint of its encoder weights (see modelKeyOf). */
  modelKey: string
  /** PREPROCESS_VERSION at the time of encoding. */
  preprocess: number
  /**
   * The region encoded (region.ts, `x0,y0,x1,y1`); absent for the whole image, so entries
   * written before regions existed stay valid as whole-image entries.
   */
  region?: string
}

export interface EntryHeader extends EntryKey {
  format: 1
  modelId: string
  width: number
  height: number
  dtype: StorageType
  /** Values per tensor, in file order. */
  lengths: [number, number, number]
}

/**
 * What the caller knows about the image and model independently of the entry: a sound entry
 * that disagrees with any of it is a miss, never believed.
 */
export interface EntryExpectation {
  /** The model's id (the engine refuses embeddings of another). */
  modelId: string
  /** The image's size after EXIF orientation, from its own header. */
  width: number
  height: number
  /** Values per tensor, in file order (imageEmbed, highResFeats0, highResFeats1). */
  lengths: readonly [number, number, number]
}

const MAGIC = Buffer.from('SAMEMB01', 'latin1')
export const ENTRY_PREFIX_BYTES = 44
const PREFIX = ENTRY_PREFIX_BYTES
/** A real header is about 300 bytes; a larger one is not an entry this app wrote. */
export const MAX_HEADER_BYTES = 64 * 1024
const TENSORS = ['imageEmbed', 'highResFeats0', 'highResFeats1'] as const
/** The encoder output each stored tensor is (the model interface's names). */
const TENSOR_OUTPUTS = {
  imageEmbed: 'image_embed',
  highResFeats0: 'high_res_feats_0',
  highResFeats1: 'high_res_feats_1',
}

function valuesOf(name: string): number {
  const spec = ENCODER_OUTPUTS.find((t) => t.name === name)
  if (!spec || spec.type !== 'float32') throw new Error(`model interface has no float32 encoder output ${name}`)
  return spec.shape.reduce<number>((n, d) => n * (d as number), 1)
}

/**
 * Values per stored tensor for the SAM 2.1 model interface: what every entry of a real model
 * must hold (the decoder's inputs have exactly these shapes; all float32, stored as float16
 * or float32 and widened on read).
 */
export const MODEL_TENSOR_LENGTHS: readonly [number, number, number] = [
  valuesOf(TENSOR_OUTPUTS.imageEmbed),
  valuesOf(TENSOR_OUTPUTS.highResFeats0),
  valuesOf(TENSOR_OUTPUTS.highResFeats1),
]

/** The largest file an entry for `expected` can be: anything bigger is not read. */
export function maxEntryBytes(expected: EntryExpectation): number {
  return PREFIX + MAX_HEADER_BYTES + expected.lengths.reduce((n, l) => n + l * 4, 0)
}

export class CorruptEntryError extends Error {
  override readonly name = 'CorruptEntryError'
}

function bytesPer(dtype: StorageType): number {
  return dtype === 'float16' ? 2 : 4
}

/** Values converted between yields to the event loop: about 5 ms of work. */
const CHUNK = 1 << 19

const nextTurn = () => new Promise<void>((r) => setImmediate(r))

/**
 * The entry's bytes. Runs after an encode, while the user may already be clicking: the
 * conversion and checksum are done in slices with yields between, so a decode waiting on
 * the event loop is not held up by 8 MB of float16 conversion.
 */
export async function encodeEntry(key: EntryKey, embedding: Embedding, dtype: StorageType): Promise<Buffer> {
  const arrays = TENSORS.map((name) => embedding[name])
  const header: EntryHeader = {
    format: 1,
    ...key,
    modelId: embedding.modelId,
    width: embedding.width,
    height: embedding.height,
    dtype,
    lengths: [arrays[0].length, arrays[1].length, arrays[2].length],
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((4 - (Buffer.byteLength(json) % 4)) % 4)
  const headerBytes = Buffer.from(json, 'utf8')
  const payload = arrays.reduce((n, a) => n + a.length * bytesPer(dtype), 0)
  // Its own ArrayBuffer at offset 0, so the tensor views below are aligned.
  const buf = Buffer.allocUnsafeSlow(PREFIX + headerBytes.length + payload)
  MAGIC.copy(buf, 0)
  buf.writeUInt32LE(headerBytes.length, 8)
  headerBytes.copy(buf, PREFIX)
  const hash = createHash('sha256').update(headerBytes)
  let offset = PREFIX + headerBytes.length
  for (const a of arrays) {
    for (let from = 0; from < a.length; from += CHUNK) {
      await nextTurn()
      const part = a.subarray(from, Math.min(a.length, from + CHUNK))
      const bytes = part.length * bytesPer(dtype)
      if (dtype === 'float16') toFloat16(part, new Uint16Array(buf.buffer, buf.byteOffset + offset, part.length))
      else new Float32Array(buf.buffer, buf.byteOffset + offset, part.length).set(part)
      hash.update(buf.subarray(offset, offset + bytes))
      offset += bytes
    }
  }
  hash.digest().copy(buf, 12)
  return buf
}

function parseHeader(buf: Buffer): EntryHeader {
  if (buf.length < PREFIX || !buf.subarray(0, 8).equals(MAGIC))
    throw new CorruptEntryError('not an embedding entry (bad magic)')
  const length = buf.readUInt32LE(8)
  if (length % 4 !== 0 || length > MAX_HEADER_BYTES || PREFIX + length > buf.length)
    throw new CorruptEntryError(`header length ${length} does not fit the file`)
  let parsed: unknown
  try {
    parsed = JSON.parse(buf.toString('utf8', PREFIX, PREFIX + length))
  } catch {
    throw new CorruptEntryError('header is not JSON')
  }
  const h = parsed as Partial<EntryHeader>
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    h.format !== 1 ||
    typeof h.contentHash !== 'string' ||
    typeof h.modelKey !== 'string' ||
    typeof h.modelId !== 'string' ||
    !Number.isInteger(h.preprocess) ||
    !isCount(h.width) ||
    !isCount(h.height) ||
    (h.dtype !== 'float16' && h.dtype !== 'float32') ||
    !Array.isArray(h.lengths) ||
    h.lengths.length !== 3 ||
    !h.lengths.every(isCount) ||
    (h.region !== undefined && (typeof h.region !== 'string' || parseRegionKey(h.region) === null))
  ) {
    throw new CorruptEntryError('header fields are missing or malformed')
  }
  return h as EntryHeader
}

/**
 * Why a sound entry must not be used for this lookup, or null when it agrees with everything
 * the caller knows. The entry's own claims are never taken for facts about the image.
 */
function mismatchOf(header: EntryHeader, key: EntryKey, expected: EntryExpectation): string | null {
  if (header.contentHash !== key.contentHash)
    return `computed from other image content (${header.contentHash.slice(0, 12)}), not this image (${key.contentHash.slice(0, 12)})`
  if (header.modelKey !== key.modelKey) return `computed by model ${header.modelKey}, not ${key.modelKey}`
  if (header.preprocess !== key.preprocess)
    return `computed with preprocessing version ${header.preprocess}, not ${key.preprocess}`
  if ((header.region ?? null) !== (key.region ?? null))
    return `computed on ${header.region ? `the region ${header.region}` : 'the whole image'}, not ${key.region ? `the region ${key.region}` : 'the whole image'}`
  if (header.modelId !== expected.modelId) return `says model ${header.modelId}, not ${expected.modelId}`
  if (header.width !== expected.width || header.height !== expected.height)
    return `says the image is ${header.width}x${header.height}; it is ${expected.width}x${expected.height}`
  if (header.lengths.some((l, i) => l !== expected.lengths[i]))
    return `tensor sizes ${header.lengths.join(',')} are not the model's ${expected.lengths.join(',')}`
  return null
}

/** Header and size check of an entry, without the checksum: what precompute needs to skip an image. */
export function checkEntryHead(
  head: Buffer,
  fileBytes: number,
  key: EntryKey,
  expected: EntryExpectation,
): { ok: true } | { ok: false; reason: string } {
  const header = parseHeader(head)
  const size = PREFIX + head.readUInt32LE(8) + header.lengths.reduce((n, l) => n + l * bytesPer(header.dtype), 0)
  if (fileBytes !== size)
    throw new CorruptEntryError(`file has ${fileBytes} bytes, its header says ${size} (truncated or extended)`)
  const reason = mismatchOf(header, key, expected)
  return reason === null ? { ok: true } : { ok: false, reason }
}

export type DecodedEntry = { ok: true; embedding: Embedding } | { ok: false; reason: string }

/**
 * Checks and decodes an entry. Throws CorruptEntryError for anything damaged; returns the
 * reason for a sound entry that disagrees with the lookup (another image, model or
 * preprocessing, another image size, other tensor sizes). The checksum runs on libuv's thread
 * pool (WebCrypto) while this thread widens the tensors; nothing is returned before it matched.
 */
export async function decodeEntry(bufIn: Buffer, key: EntryKey, expected: EntryExpectation): Promise<DecodedEntry> {
  const header = parseHeader(bufIn)
  const headerLength = bufIn.readUInt32LE(8)
  const size = PREFIX + headerLength + header.lengths.reduce((n, l) => n + l * bytesPer(header.dtype), 0)
  if (bufIn.length !== size)
    throw new CorruptEntryError(`file has ${bufIn.length} bytes, its header says ${size} (truncated or extended)`)
  const reason = mismatchOf(header, key, expected)
  if (reason !== null) {
    // Only trusted after the checksum: a damaged header must be reported as damage, not a miss.
    await checkDigest(bufIn)
    return { ok: false, reason }
  }
  // Typed array views need aligned offsets; a pooled Buffer may not be.
  let buf = bufIn
  if (buf.byteOffset % 4 !== 0) {
    buf = Buffer.allocUnsafeSlow(bufIn.length)
    bufIn.copy(buf)
  }
  const digest = checkDigest(buf)
  digest.catch(() => {}) // awaited below; this only marks it handled while we convert
  // One allocation for the three tensors (views into it): fewer page faults than three.
  const total = header.lengths[0] + header.lengths[1] + header.lengths[2]
  // Shared: the app's decoder worker reads the embedding without a copy.
  const all = sharedFloat32(total)
  let offset = PREFIX + headerLength
  let at = 0
  const out = header.lengths.map((length) => {
    const view = all.subarray(at, at + length)
    if (header.dtype === 'float16') fromFloat16(new Uint16Array(buf.buffer, buf.byteOffset + offset, length), view)
    else view.set(new Float32Array(buf.buffer, buf.byteOffset + offset, length))
    offset += length * bytesPer(header.dtype)
    at += length
    return view
  })
  await digest
  return {
    ok: true,
    // Width, height, model id and region are the expected ones (equal to the header's, checked above).
    embedding: {
      modelId: expected.modelId,
      width: expected.width,
      height: expected.height,
      ...(key.region ? { region: parseRegionKey(key.region) } : {}),
      imageEmbed: out[0],
      highResFeats0: out[1],
      highResFeats1: out[2],
    },
  }
}

async function checkDigest(buf: Buffer): Promise<void> {
  const digest = Buffer.from(await webcrypto.subtle.digest('SHA-256', buf.subarray(PREFIX)))
  if (!digest.equals(buf.subarray(12, PREFIX))) throw new CorruptEntryError('checksum mismatch')
}

/** Bytes an entry of this embedding will take on disk (header excluded: under 1 KB). */
export function payloadBytes(embedding: Embedding, dtype: StorageType): number {
  return (
    (embedding.imageEmbed.length + embedding.highResFeats0.length + embedding.highResFeats1.length) * bytesPer(dtype)
  )
}
