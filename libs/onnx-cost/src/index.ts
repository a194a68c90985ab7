export * from './onnx-format';
export * from './op-rules';
export * from './cost';
export * from './writer';
