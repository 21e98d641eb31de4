// Builds tiny ONNX models with a chosen interface (names, shapes, dtypes) whose outputs are
// constants expanded to the declared shape. Used to test the model check against near misses
// (wrong names, ranks, dims, dtypes) without real weights.

import onnxProto from 'onnx-proto'

const { onnx } = onnxProto

export interface StubTensor {
  name: string
  /** 'float32' | 'int64' */
  type?: 'float32' | 'int64'
  shape: (number | string)[]
}

const ELEM = { float32: 1, int64: 7 } as const

function valueInfo(t: StubTensor) {
  return onnx.ValueInfoProto.create({
    name: t.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: ELEM[t.type ?? 'float32'],
        shape: onnx.TensorShapeProto.create({
          dim: t.shape.map((d) =>
            typeof d === 'number'
              ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
              : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  })
}

/** A model with the given inputs and outputs; dynamic output dims are expanded as 1. */
export function buildStubModel(inputs: StubTensor[], outputs: StubTensor[]): Uint8Array {
  const nodes = []
  const initializers = []
  for (const [i, out] of outputs.entries()) {
    const type = out.type ?? 'float32'
    initializers.push(
      onnx.TensorProto.create({
        name: `value_${i}`,
        dataType: ELEM[type],
        dims: [],
        ...(type === 'float32' ? { floatData: [0.5] } : { int64Data: [1] }),
      }),
      onnx.TensorProto.create({
        name: `shape_${i}`,
        dataType: ELEM.int64,
        dims: [out.shape.length],
        int64Data: out.shape.map((d) => (typeof d === 'number' ? d : 1)),
      }),
    )
    nodes.push(
      onnx.NodeProto.create({
        opType: 'Expand',
        input: [`value_${i}`, `shape_${i}`],
        output: [out.name],
        name: `expand_${i}`,
      }),
    )
  }
  const graph = onnx.GraphProto.create({
    name: 'stub',
    node: nodes,
    initializer: initializers,
    input: inputs.map(valueInfo),
    output: outputs.map(valueInfo),
  })
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
    producerName: 'sam-annotator tests/helpers/onnx-stub.ts',
    graph,
  })
  return onnx.ModelProto.encode(model).finish()
}
