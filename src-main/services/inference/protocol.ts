// Messages between main's inference client (inference-client.ts) and its worker thread.
import type { InferenceSession, Tensor } from 'onnxruntime-node'

/**
 * A tensor as it crosses the thread. Data over a SharedArrayBuffer (an embedding, an encoder
 * input) is shared, not copied; other data is copied.
 */
export interface WireTensor {
  type: Tensor.Type
  dims: readonly number[]
  data: Tensor.DataType
  /** Names shared data for as long as main keeps it, so the worker copies it into plain memory once. */
  key?: number
}

export type InferenceRequest =
  | { id: number; op: 'create'; file: string; options: InferenceSession.SessionOptions }
  | {
      id: number
      op: 'run'
      session: number
      feeds: Record<string, WireTensor>
      fetches: readonly string[]
    }
  | { id: number; op: 'release'; session: number }

export interface SessionDescription {
  session: number
  inputNames: readonly string[]
  outputNames: readonly string[]
  inputMetadata: readonly InferenceSession.ValueMetadata[]
  outputMetadata: readonly InferenceSession.ValueMetadata[]
}

export type InferenceReply =
  | { id: number; ok: true; result: SessionDescription | Record<string, WireTensor> | null }
  | { id: number; ok: false; message: string }
