// The SAM 2.1 Hiera-Small split-ONNX model interface (tensor names, dtypes, shapes), as data.
// The model check, the demo-model generator and the tests all read this one table, so the
// demo model and the real weights are held to the same interface.

export type TensorType = 'float32'

/** A dimension: a fixed size, or a named dynamic one (`N`: number of points). */
export type Dim = number | string

export interface TensorSpec {
  name: string
  type: TensorType
  shape: readonly Dim[]
}

export const MODEL_SIZE = 1024
export const LOW_RES_SIZE = 256
/** Upstream clamps fed-back logits to this magnitude. */
export const MASK_LOGIT_CLAMP = 32
export const PIXEL_MEAN = [0.485, 0.456, 0.406] as const
export const PIXEL_STD = [0.229, 0.224, 0.225] as const

export const ENCODER_INPUTS: readonly TensorSpec[] = [{ name: 'image', type: 'float32', shape: [1, 3, 1024, 1024] }]

export const ENCODER_OUTPUTS: readonly TensorSpec[] = [
  { name: 'high_res_feats_0', type: 'float32', shape: [1, 32, 256, 256] },
  { name: 'high_res_feats_1', type: 'float32', shape: [1, 64, 128, 128] },
  { name: 'image_embed', type: 'float32', shape: [1, 256, 64, 64] },
]

export const DECODER_INPUTS: readonly TensorSpec[] = [
  { name: 'image_embed', type: 'float32', shape: [1, 256, 64, 64] },
  { name: 'high_res_feats_0', type: 'float32', shape: [1, 32, 256, 256] },
  { name: 'high_res_feats_1', type: 'float32', shape: [1, 64, 128, 128] },
  { name: 'point_coords', type: 'float32', shape: [1, 'N', 2] },
  { name: 'point_labels', type: 'float32', shape: [1, 'N'] },
  { name: 'mask_input', type: 'float32', shape: [1, 1, 256, 256] },
  { name: 'has_mask_input', type: 'float32', shape: [1] },
]

/** Variant A (the model card): full-size masks plus the low-resolution logits. */
export const DECODER_OUTPUTS_A: readonly TensorSpec[] = [
  { name: 'masks', type: 'float32', shape: [1, 3, 1024, 1024] },
  { name: 'iou_predictions', type: 'float32', shape: [1, 3] },
  { name: 'low_res_masks', type: 'float32', shape: [1, 3, 256, 256] },
]

/** Variant B (newer export script): 256x256 masks double as the feedback logits. */
export const DECODER_OUTPUTS_B: readonly TensorSpec[] = [
  { name: 'masks', type: 'float32', shape: [1, 3, 256, 256] },
  { name: 'iou_predictions', type: 'float32', shape: [1, 3] },
]

/** Point labels understood by the decoder. */
export const POINT_LABEL = { negative: 0, positive: 1, boxTopLeft: 2, boxBottomRight: 3, padding: -1 } as const
