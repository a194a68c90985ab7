export const TRUNK_SETTINGS = Symbol('TRUNK_SETTINGS');
export const TRUNK_MODELS = Symbol('TRUNK_MODELS');
