import { validateManifest } from '@outlet/model-package';

/** A two-exit manifest with a [1,2,2] FP32 input, for request validation tests (no model files are opened). */
export const tinyManifest = validateManifest({
  name: 'tiny',
  version: '1',
  input: { name: 'input', datatype: 'FP32', shape: [-1, 2, 2] },
  output: { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
  segments: [{ file: 's1.onnx', output_shape: [-1, 4] }, { file: 's2.onnx', output_shape: [-1, 4] }],
  exits: [
    { file: 'e1.onnx', after_segment: 0, threshold: 0.9 },
    { file: 'e2.onnx', after_segment: 1, threshold: 0 },
  ],
});
