export * from './features';
export * from './fit';
export * from './nnls';
export * from './predictor';
export * from './stage-times';
export * from './zoo';
