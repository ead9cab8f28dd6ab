/**
 * Sweeps over a Redis queue (BullMQ): the coordinator's executor for `runSweep`, the worker, and the
 * pieces they share. Not re-exported from the package root (it would load BullMQ for every import);
 * the CLI (`convnet sweep --queue`, `convnet worker`) imports it when needed.
 */
export { queueExecutor, type QueueExecutorOptions } from './coordinator.js';
export { startWorker, type WorkerOptions, type WorkerExit } from './worker.js';
export { parseQueueUrl, checkConnection, type QueueTarget } from './connection.js';
export { fingerprintData, fingerprintDifference, type DataFingerprint } from './fingerprint.js';
export { checkTrialJob, QUEUE_NAME, PREFIX, type TrialJob } from './protocol.js';
