export const BRANCH_SETTINGS = Symbol('BRANCH_SETTINGS');
export const BRANCH_MODELS = Symbol('BRANCH_MODELS');
