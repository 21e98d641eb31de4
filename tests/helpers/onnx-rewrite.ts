// Rewrites the declared interface of an ONNX model the way other export tools leave it, without
// changing what the graph computes: dimensions left open under generated names (as exports made
// without onnx-simplifier do, e.g. `Clipmasks_dim_0`), declared with other fixed sizes, or
// tensors renamed. Used on the demo model
// to test the model check against such exports.

import onnxProto from 'onnx-proto'
import type { onnx as OnnxTypes } from 'onnx-proto'

const { onnx } = onnxProto
const INT64 = onnx.TensorProto.DataType.INT64
const FLOAT = onnx.TensorProto.DataType.FLOAT

/** Which dimensions of a tensor to leave open: all, or these indices. */
export type OpenDims = 'all' | number[]

export interface Rewrite {
  /** Tensors renamed everywhere in the graph (a swap is allowed: all names map at once). */
  rename?: Record<string, string>
  /** Graph inputs and outputs (by name, after renaming) whose dimensions become symbolic. */
  open?: Record<string, OpenDims>
  /** Graph inputs and outputs declared with these fixed sizes instead (true or not). */
  fixed?: Record<string, number[]>
}

/** Every name used as a node input or output in `graph` and its subgraphs, renamed by `rename`. */
function renameIn(graph: OnnxTypes.IGraphProto, rename: (name: string) => string): void {
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map(rename)
    node.output = (node.output ?? []).map(rename)
    for (const attr of node.attribute ?? []) {
      if (attr.g) renameIn(attr.g, rename)
      for (const g of attr.graphs ?? []) renameIn(g, rename)
    }
  }
  for (const list of [graph.input, graph.output, graph.valueInfo]) for (const v of list ?? []) v.name = rename(v.name!)
}

function declareShape(info: OnnxTypes.IValueInfoProto, how: OpenDims | { fixed: number[] }): void {
  const shape = info.type?.tensorType?.shape
  if (!shape?.dim) throw new Error(`${info.name}: declares no shape`)
  if (!Array.isArray(how) && how !== 'all') {
    shape.dim = how.fixed.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d }))
    return
  }
  shape.dim = shape.dim.map((d, i) =>
    how === 'all' || how.includes(i)
      ? onnx.TensorShapeProto.Dimension.create({ dimParam: `Reshape${info.name}_dim_${i}` })
      : d,
  )
}

export function rewriteModel(bytes: Uint8Array, rewrite: Rewrite): Uint8Array {
  const model = onnx.ModelProto.decode(bytes)
  const graph = model.graph!
  graph.node ??= []
  graph.initializer ??= []
  const inputs = graph.input ?? []
  const outputs = graph.output ?? []
  const names = rewrite.rename ?? {}
  if (Object.keys(names).length > 0) renameIn(graph, (n) => names[n] ?? n)

  // The runtime infers an output's shape from the graph and would put back the dimensions the
  // declaration leaves open; reshaping the output to its own shape times a number computed from
  // an input's values (always 1: the identity) hides them from it, as a real export's
  // data-dependent ops do.
  let runtimeOne: string | null = null
  const oneFromInput = (): string => {
    if (runtimeOne) return runtimeOne
    const source = inputs.find((i) => i.type?.tensorType?.elemType === FLOAT)
    if (!source) throw new Error('no float input to compute a shape from')
    graph.initializer!.push(
      onnx.TensorProto.create({ name: 'rewrite_zero', dataType: FLOAT, dims: [], floatData: [0] }),
      onnx.TensorProto.create({ name: 'rewrite_one', dataType: FLOAT, dims: [], floatData: [1] }),
      onnx.TensorProto.create({ name: 'rewrite_shape_1', dataType: INT64, dims: [1], int64Data: [1] }),
    )
    const node = (opType: string, input: string[], output: string, attribute: OnnxTypes.IAttributeProto[] = []) =>
      graph.node!.push(onnx.NodeProto.create({ opType, input, output: [output], name: `rewrite_${output}`, attribute }))
    node('ReduceMin', [source.name!], 'rewrite_min', [
      { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
    ])
    node('Mul', ['rewrite_min', 'rewrite_zero'], 'rewrite_nought')
    node('Add', ['rewrite_nought', 'rewrite_one'], 'rewrite_unit')
    node('Cast', ['rewrite_unit'], 'rewrite_unit_int', [
      { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: INT64 },
    ])
    node('Reshape', ['rewrite_unit_int', 'rewrite_shape_1'], 'rewrite_runtime_one')
    runtimeOne = 'rewrite_runtime_one'
    return runtimeOne
  }

  const declarations = [
    ...Object.entries(rewrite.open ?? {}),
    ...Object.entries(rewrite.fixed ?? {}).map(([name, fixed]) => [name, { fixed }] as const),
  ]
  for (const [name, how] of declarations) {
    const input = inputs.find((v) => v.name === name)
    if (input) {
      declareShape(input, how)
      continue
    }
    const output = outputs.find((v) => v.name === name)
    if (!output) throw new Error(`${name}: not a graph input or output`)
    const inner = `${name}_before_expand`
    renameIn(graph, (n) => (n === name ? inner : n))
    output.name = name
    const shape = `${name}_shape`
    const runtimeShape = `${name}_runtime_shape`
    graph.node.push(
      onnx.NodeProto.create({ opType: 'Shape', input: [inner], output: [shape], name: `rewrite_${shape}` }),
      onnx.NodeProto.create({
        opType: 'Mul',
        input: [shape, oneFromInput()],
        output: [runtimeShape],
        name: `rewrite_${runtimeShape}`,
      }),
      onnx.NodeProto.create({
        opType: 'Reshape',
        input: [inner, runtimeShape],
        output: [name],
        name: `rewrite_${name}`,
      }),
    )
    declareShape(output, how)
  }
  return onnx.ModelProto.encode(model).finish()
}
