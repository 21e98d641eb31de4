// A small ONNX graph builder for the generated demo model: names tensors, holds initializers
// and serialises a ModelProto through the onnx-proto (protobufjs) static code. Only what the
// demo encoder and decoder need; every name it makes is deterministic, so the same script
// always writes byte-identical files.

import onnxProto from 'onnx-proto'
import type { onnx as OnnxTypes } from 'onnx-proto'

const { onnx } = onnxProto

export type GraphProto = OnnxTypes.IGraphProto
type NodeProto = OnnxTypes.INodeProto
type TensorProto = OnnxTypes.ITensorProto
type ValueInfoProto = OnnxTypes.IValueInfoProto
type AttributeProto = OnnxTypes.IAttributeProto

const AttrType = onnx.AttributeProto.AttributeType
const DataType = onnx.TensorProto.DataType

/** An attribute value, tagged so that 1 (int) and 1.0 (float) cannot be confused. */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'graph'; value: GraphProto }

export const int = (value: number): Attr => ({ kind: 'int', value })
export const float = (value: number): Attr => ({ kind: 'float', value })
export const ints = (value: readonly number[]): Attr => ({ kind: 'ints', value })
export const str = (value: string): Attr => ({ kind: 'string', value })
export const graph = (value: GraphProto): Attr => ({ kind: 'graph', value })

export type ElemType = 'float' | 'int64' | 'bool'

/** A dimension of a declared graph input or output: fixed, or a named dynamic one. */
export type Dim = number | string

const ELEM: Record<ElemType, number> = {
  float: DataType.FLOAT,
  int64: DataType.INT64,
  bool: DataType.BOOL,
}

function attribute(name: string, attr: Attr): AttributeProto {
  switch (attr.kind) {
    case 'int':
      return { name, type: AttrType.INT, i: attr.value }
    case 'float':
      return { name, type: AttrType.FLOAT, f: attr.value }
    case 'ints':
      return { name, type: AttrType.INTS, ints: [...attr.value] }
    case 'string':
      return { name, type: AttrType.STRING, s: new TextEncoder().encode(attr.value) }
    case 'graph':
      return { name, type: AttrType.GRAPH, g: attr.value }
  }
}

export function valueInfo(name: string, elem: ElemType, shape: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  }
}

/** Shared counter so a Loop body's names never collide with the outer graph's. */
export class NameSource {
  private next = 0
  fresh(hint: string): string {
    return `${hint}_${this.next++}`
  }
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = []
  readonly initializers: TensorProto[] = []
  private readonly names: NameSource

  constructor(names: NameSource = new NameSource()) {
    this.names = names
  }

  /** A builder for a subgraph (Loop body) that shares this graph's name space. */
  subgraph(): GraphBuilder {
    return new GraphBuilder(this.names)
  }

  fresh(hint: string): string {
    return this.names.fresh(hint)
  }

  /** Adds one node with `outputs` results; returns their names. */
  opN(opType: string, inputs: readonly string[], outputs: number, attrs: Record<string, Attr> = {}): string[] {
    const hint = opType.toLowerCase()
    const outNames = Array.from({ length: outputs }, () => this.fresh(hint))
    this.nodes.push({
      opType,
      name: this.fresh(`n_${hint}`),
      input: [...inputs],
      output: outNames,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    })
    return outNames
  }

  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0]
  }

  /** Adds a node that writes a given name (graph outputs, Loop body outputs). */
  opTo(output: string, opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    this.nodes.push({
      opType,
      name: this.fresh(`n_${opType.toLowerCase()}`),
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    })
    return output
  }

  constFloat(values: readonly number[] | Float32Array, dims: readonly number[], hint = 'c'): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values)
    const name = this.fresh(hint)
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DataType.FLOAT,
      rawData: littleEndianBytes(data),
    })
    return name
  }

  constInt64(values: readonly number[], dims: readonly number[], hint = 'i'): string {
    const name = this.fresh(hint)
    const data = BigInt64Array.from(values.map((v) => BigInt(v)))
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DataType.INT64,
      rawData: littleEndianBytes(data),
    })
    return name
  }

  constBool(value: boolean, hint = 'b'): string {
    const name = this.fresh(hint)
    this.initializers.push({ name, dims: [], dataType: DataType.BOOL, rawData: Uint8Array.of(value ? 1 : 0) })
    return name
  }

  /** A scalar float constant. */
  scalar(value: number): string {
    return this.constFloat([value], [], 's')
  }

  // Shorthands for the operators used most; they keep the graph code close to the maths.
  add(a: string, b: string): string {
    return this.op('Add', [a, b])
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b])
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b])
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b])
  }
  max(a: string, b: string): string {
    return this.op('Max', [a, b])
  }
  min(a: string, b: string): string {
    return this.op('Min', [a, b])
  }
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.constInt64(shape, [shape.length], 'shape')])
  }
  toFloat(x: string): string {
    return this.op('Cast', [x], { to: int(DataType.FLOAT) })
  }
  /** Channels [start, end) along `axis`. */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.op('Slice', [
      x,
      this.constInt64([start], [1], 'st'),
      this.constInt64([end], [1], 'en'),
      this.constInt64([axis], [1], 'ax'),
    ])
  }
  reduceSum(x: string, axes: readonly number[] | null, keepdims: boolean): string {
    const inputs = axes === null ? [x] : [x, this.constInt64(axes, [axes.length], 'axes')]
    return this.op('ReduceSum', inputs, { keepdims: int(keepdims ? 1 : 0) })
  }
  /** 3x3 (or k x k) max filter that keeps the size: morphological dilation of a 0/1 map. */
  maxFilter(x: string, size = 3): string {
    const r = (size - 1) / 2
    return this.op('MaxPool', [x], {
      kernel_shape: ints([size, size]),
      pads: ints([r, r, r, r]),
      strides: ints([1, 1]),
    })
  }
}

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.byteLength)
  const view = new DataView(bytes.buffer)
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true))
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true))
  return bytes
}

export interface ModelMeta {
  producerName: string
  producerVersion: string
  docString: string
}

export function buildGraph(
  b: GraphBuilder,
  name: string,
  inputs: ValueInfoProto[],
  outputs: ValueInfoProto[],
): GraphProto {
  return { name, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs }
}

/** Serialises a graph as an opset 17 / IR version 8 ModelProto. */
export function encodeModel(g: GraphProto, meta: ModelMeta): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: meta.producerName,
    producerVersion: meta.producerVersion,
    docString: meta.docString,
    graph: g,
  })
  return onnx.ModelProto.encode(model).finish()
}
