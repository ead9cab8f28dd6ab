export { valueAndGrad, noGrad, isRecording, record } from './tape.js';
export type { GradFn } from './tape.js';
