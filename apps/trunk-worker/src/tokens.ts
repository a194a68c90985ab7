export const TRUNK_SETTINGS = Symbol('TRUNK_SETTINGS');
/** The model packages this worker serves, by name. */
export const TRUNK_PACKAGES = Symbol('TRUNK_PACKAGES');
/** The ModelThread that runs every model's sessions off the main thread. */
export const TRUNK_ENGINE = Symbol('TRUNK_ENGINE');
/** The BullMQ processors of the inference queues (their workers stop taking tasks when the node drains). */
export const INFER_PROCESSORS = Symbol('INFER_PROCESSORS');
