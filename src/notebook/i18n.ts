/** What the notebook prints and titles, in English and in Spanish (the notebook's own language). */
import type { Lang } from '../report/types.js';

export interface NotebookStrings {
  title: string;
  correlate: string;
  filter: (name: string) => string;
  filterNames: Record<string, string>;
  original: string;
  grayImage: string;
  pooling: string;
  originalShape: string;
  maxPooling: string;
  avgPooling: string;
  data: string;
  classIndices: string;
  summary: string;
  training: string;
  /** The "Training" section's text until the first epoch ends. */
  trainingRunning: string;
  curves: string;
  saved: string;
  savedLine: (file: string, kb: number) => string;
  loadedLine: (diff: number) => string;
  predictions: string;
  prediction: string;
  predictionsCaption: string;
  predictionsCaptionCategorical: string;
  /** How the labels and the last layer follow from the number of classes. */
  classModeLine: (k: number, mode: 'binary' | 'categorical') => string;
  /** One validation image's prediction, printed under the grid. */
  predictionLine: (file: string, p: string, predicted: string, actual: string) => string;
  confusion: string;
  accuracyLine: (acc: number, n: number) => string;
  wrong: string;
  noneWrong: string;
  wrongColumns: [string, string, string, string];
  builtin: (n: number, dir: string) => string;
  report: string;
}

const en: NotebookStrings = {
  title: 'convnet notebook',
  correlate: 'Correlating a 5x5 matrix with the vertical-edge filter',
  filter: (name) => `Filter: ${name}`,
  filterNames: { 'vertical-edges': 'Vertical edges', 'horizontal-edges': 'Horizontal edges', laplacian: 'Laplacian' },
  original: 'Original',
  grayImage: 'Image in gray',
  pooling: 'Pooling the Laplacian map three times',
  originalShape: 'Original image',
  maxPooling: 'Max pooling',
  avgPooling: 'Average pooling',
  data: 'Reading the images',
  classIndices: 'Class indices',
  summary: 'Model summary',
  training: 'Training',
  trainingRunning: 'Training... (one line per epoch appears here)',
  curves: 'Training curves',
  saved: 'Saving and loading the model',
  savedLine: (file, kb) => `Saved ${file} (${kb.toFixed(0)} KB).`,
  loadedLine: (diff) => `Loaded it back: predictions on a validation batch differ by at most ${diff.toExponential(2)}.`,
  predictions: 'Predictions on a validation batch',
  prediction: 'Prediction',
  predictionsCaption: 'Green frame: right; red frame: wrong (threshold 0.5; the prediction is the probability of class 1).',
  predictionsCaptionCategorical: 'Green frame: right; red frame: wrong (each title is the predicted class and its probability).',
  classModeLine: (k, mode) => (mode === 'binary'
    ? `${k} classes: labels 0/1 (class_mode='binary'), a Dense(1, sigmoid) output and binary cross-entropy.`
    : `${k} classes: one-hot labels (class_mode='categorical'), a Dense(${k}, softmax) output and categorical cross-entropy.`),
  predictionLine: (file, p, predicted, actual) => `${file}  Prediction: ${p} -> ${predicted}  (true: ${actual})`,
  confusion: 'Confusion matrix (validation set)',
  accuracyLine: (acc, n) => `Validation accuracy: ${acc.toFixed(4)} on ${n} images.`,
  wrong: 'Most confidently wrong validation images',
  noneWrong: 'No validation image is wrong.',
  wrongColumns: ['file', 'class', 'predicted', 'probability'],
  builtin: (n, dir) => `No --data given: generated the built-in set (${n} images of bars, lying or standing) in ${dir}`,
  report: 'Report',
};

const es: NotebookStrings = {
  title: 'Cuaderno de convnet',
  correlate: 'Correlación de una matriz de 5x5 con el filtro de bordes verticales',
  filter: (name) => `Filtro: ${name}`,
  filterNames: { 'vertical-edges': 'Bordes verticales', 'horizontal-edges': 'Bordes horizontales', laplacian: 'Laplaciano' },
  original: 'Original',
  grayImage: 'Imagen en gris',
  pooling: 'Pooling del mapa laplaciano tres veces',
  originalShape: 'Imagen original',
  maxPooling: 'Max pooling',
  avgPooling: 'Average pooling',
  data: 'Lectura de las imágenes',
  classIndices: 'Índices de clase',
  summary: 'Resumen del modelo',
  training: 'Entrenamiento',
  trainingRunning: 'Entrenando... (aquí aparece una línea por época)',
  curves: 'Curvas de entrenamiento',
  saved: 'Guardar y cargar el modelo',
  savedLine: (file, kb) => `Guardado ${file} (${kb.toFixed(0)} KB).`,
  loadedLine: (diff) => `Cargado de nuevo: las predicciones sobre un lote de validación difieren como mucho en ${diff.toExponential(2)}.`,
  predictions: 'Predicciones sobre un lote de validación',
  prediction: 'Predicción',
  predictionsCaption: 'Marco verde: acierto; marco rojo: error (umbral 0.5; la predicción es la probabilidad de la clase 1).',
  predictionsCaptionCategorical: 'Marco verde: acierto; marco rojo: error (cada título es la clase predicha y su probabilidad).',
  classModeLine: (k, mode) => (mode === 'binary'
    ? `${k} clases: etiquetas 0/1 (class_mode='binary'), una salida Dense(1, sigmoid) y entropía cruzada binaria.`
    : `${k} clases: etiquetas one-hot (class_mode='categorical'), una salida Dense(${k}, softmax) y entropía cruzada categórica.`),
  predictionLine: (file, p, predicted, actual) => `${file}  Predicción: ${p} -> ${predicted}  (real: ${actual})`,
  confusion: 'Matriz de confusión (conjunto de validación)',
  accuracyLine: (acc, n) => `Exactitud de validación: ${acc.toFixed(4)} sobre ${n} imágenes.`,
  wrong: 'Imágenes de validación con los errores más seguros',
  noneWrong: 'Ninguna imagen de validación está mal clasificada.',
  wrongColumns: ['archivo', 'clase', 'predicha', 'probabilidad'],
  builtin: (n, dir) => `Sin --data: se generó el conjunto integrado (${n} imágenes de barras, acostadas o de pie) en ${dir}`,
  report: 'Informe',
};

export function strings(lang: Lang): NotebookStrings { return lang === 'es' ? es : en; }
