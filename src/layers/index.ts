/**
 * Keras layers, one family per file. `layers.Conv2D`, `layers.Dense`, ... as in
 * `import { layers } from 'convnet-ts'`; the classes are exported by name too.
 */
import { InputLayer, Input } from './input.js';
import { Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Merge } from './merge.js';
import { Conv2D } from './conv.js';
import {
  MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D,
  AveragePooling1D,
} from './pooling.js';
import { DepthwiseConv2D, SeparableConv2D } from './depthwise_conv.js';
import { Conv2DTranspose, Conv1D } from './conv_more.js';
import { ReLU, LeakyReLU, ELU, Softmax } from './relu.js';
import { Dense, Activation } from './core.js';
import { Flatten, Reshape, Permute } from './reshaping.js';
import { ZeroPadding2D, Cropping2D, UpSampling2D } from './spatial.js';
import { Dropout, GaussianNoise, GaussianDropout, SpatialDropout2D } from './regularization.js';
import { BatchNormalization } from './normalization.js';
import { Rescaling, Resizing, Normalization } from './preprocessing.js';
import { RandomFlip, RandomRotation, RandomZoom, RandomTranslation } from './augmentation.js';
import { registerLayer } from './layer.js';

// Keras's short aliases.
registerLayer('MaxPool2D', MaxPooling2D);
registerLayer('AvgPool2D', AveragePooling2D);
registerLayer('GlobalAvgPool2D', GlobalAveragePooling2D);
registerLayer('GlobalMaxPool2D', GlobalMaxPooling2D);
registerLayer('MaxPool1D', MaxPooling1D);
registerLayer('GlobalAvgPool1D', GlobalAveragePooling1D);
registerLayer('GlobalMaxPool1D', GlobalMaxPooling1D);
registerLayer('Convolution1D', Conv1D);
registerLayer('Convolution2DTranspose', Conv2DTranspose);
registerLayer('SeparableConvolution2D', SeparableConv2D);

export {
  InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Dense, Activation,
  Flatten, Reshape, Permute, ZeroPadding2D, Cropping2D, UpSampling2D, Dropout, BatchNormalization, Rescaling,
  RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
  DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, Conv1D, ReLU, MaxPooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, AveragePooling1D,
  GaussianNoise, SpatialDropout2D, Resizing, Normalization, LeakyReLU, ELU, Softmax, GaussianDropout,
  Input, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Merge,
};
export type { InputArgs } from './input.js';
export type { ConcatenateArgs } from './merge.js';
export { Layer, Variable, KerasTensor, Node, registerLayer, getLayerClass, registeredLayers, deserializeLayer } from './layer.js';
export type { Shape, LayerArgs, CallOptions } from './layer.js';
export { clearSession } from './config.js';
export type { SerializedObject } from './config.js';
export { initializers, getInitializer, Initializer } from './initializers.js';
export { regularizers, getRegularizer, Regularizer, L1, L2, L1L2 } from './regularizers.js';
export { activations, getActivation, ACTIVATION_NAMES } from './activations.js';
export type { ActivationName } from './activations.js';

/** The layer classes under one name: `new layers.Conv2D(32, [3, 3], { activation: 'relu' })`. */
export const layers = {
  InputLayer, Conv2D, MaxPooling2D, MaxPool2D: MaxPooling2D, AveragePooling2D, AvgPool2D: AveragePooling2D,
  GlobalAveragePooling2D, GlobalAvgPool2D: GlobalAveragePooling2D, GlobalMaxPooling2D, GlobalMaxPool2D: GlobalMaxPooling2D,
  Dense, Activation, Flatten, Reshape, Permute, ZeroPadding2D, Cropping2D, UpSampling2D, Dropout, BatchNormalization, Rescaling, RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
  DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, Conv1D, ReLU, MaxPooling1D, MaxPool1D: MaxPooling1D, AveragePooling1D, AvgPool1D: AveragePooling1D,
  GlobalAveragePooling1D, GlobalAvgPool1D: GlobalAveragePooling1D, GlobalMaxPooling1D, GlobalMaxPool1D: GlobalMaxPooling1D,
  GaussianNoise, SpatialDropout2D, Resizing, Normalization, LeakyReLU, ELU, Softmax, GaussianDropout,
  Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate,
};
