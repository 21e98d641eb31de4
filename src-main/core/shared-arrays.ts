// Typed arrays over SharedArrayBuffer. The app runs the model in worker threads: an encoder
// input (12 MB) and an embedding (16 MB with SAM 2.1, fed to the decoder on every click) in
// shared memory cross to a worker without a copy, where a plain array would be copied by
// postMessage on the main thread each time.

/** A zero-filled Float32Array of `length` over shared memory. */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT))
}

/** `data` itself when it is over shared memory, else a copy that is. */
export function toSharedFloat32(data: Float32Array): Float32Array {
  if (data.buffer instanceof SharedArrayBuffer) return data
  const shared = sharedFloat32(data.length)
  shared.set(data)
  return shared
}

/**
 * onnxruntime-node accepts tensor data over a plain ArrayBuffer only ("Invalid argument" for
 * shared memory): `data` itself, or a plain copy of shared data, made once per buffer while it
 * lives (an embedding is fed to every click's decoder run).
 */
const plainCopies = new WeakMap<SharedArrayBuffer, Float32Array>()
export function plainFloat32(data: Float32Array): Float32Array {
  if (!(data.buffer instanceof SharedArrayBuffer)) return data
  let plain = plainCopies.get(data.buffer)
  if (plain === undefined || plain.length !== data.length) {
    plain = data.slice()
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) plainCopies.set(data.buffer, plain)
  }
  return plain
}
