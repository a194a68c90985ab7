export const BRANCH_SETTINGS = Symbol('BRANCH_SETTINGS');
/** The model packages whose early exit heads this worker runs, by name. */
export const BRANCH_PACKAGES = Symbol('BRANCH_PACKAGES');
/** The ModelThread that runs the heads off the main thread. */
export const BRANCH_ENGINE = Symbol('BRANCH_ENGINE');
/** This node's branch queue (a leaving worker waits for its queued subjobs). */
export const BRANCH_QUEUE = Symbol('BRANCH_QUEUE');
