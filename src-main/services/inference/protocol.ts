// Messages between main's inference client (inference-client.ts) and its worker thread.
import type { InferenceSession, Tensor } from 'onnxruntime-node'

/** A tensor as it crosses the thread: its data, or a reference to data the worker holds. */
export interface WireTensor {
  type: Tensor.Type
  dims: readonly number[]
  /** Absent when `ref` names data the worker already holds. */
  data?: Tensor.DataType
  /** With data: the worker keeps it under this id for later runs; alone: use what it kept. */
  ref?: number
}

export type InferenceRequest =
  | { id: number; op: 'create'; file: string; options: InferenceSession.SessionOptions }
  | {
      id: number
      op: 'run'
      session: number
      feeds: Record<string, WireTensor>
      fetches: readonly string[]
      /** Data the worker may forget (main keeps a bounded set of references alive there). */
      drop: readonly number[]
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
