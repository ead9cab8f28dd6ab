// The convnet WebAssembly kernels. Every export is `(params, part, parts) => void`; the
// TypeScript side (src/backend/wasm) writes the parameter block and runs the parts on its pool.
export { k_matmul } from './gemm';
export { k_conv2d, k_conv2d_grad_input, k_conv2d_grad_filter, k_conv2d_grad_filter_sum } from './conv';
export { k_max_pool, k_avg_pool, k_max_pool_grad, k_avg_pool_grad } from './pool';
export {
  k_unary, k_unary_grad, k_binary, k_binary_scalar, k_bias_act, k_reduce, k_reduce_sum, k_softmax,
  k_transpose, k_cast, k_fill,
} from './elementwise';
export { k_adam, k_sgd, k_rmsprop } from './optim';
export { k_wino_weights, k_conv2d_wino, k_conv2d_wino_grad_filter, k_conv2d_wino_grad_filter_sum } from './winograd';
export { k_conv2d_3x3_small, k_conv2d_3x3_small_grad_filter } from './conv3x3small';
export { k_depthwise_conv2d, k_depthwise_conv2d_grad_input, k_depthwise_conv2d_grad_filter } from './depthwise';
