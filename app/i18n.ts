// The page's own words in English and Spanish; the notebook's titles come from src/notebook/i18n.ts.
import { strings as notebookStrings } from '../src/notebook/i18n.js';

export type Lang = 'en' | 'es';

const en = {
  lang: 'Español',
  intro: 'The convnet course in your browser: convolution, filters, pooling, and a CNN trained on your own photos. Nothing is installed and nothing leaves this computer.',
  backend: (name: string, threads: number, isolated: boolean, adapter: string | null = null) => (name === 'webgpu'
    ? `Backend: WebGPU (${adapter ?? 'GPU'}) for training and predictions; the page's filters on WebAssembly SIMD`
    : name === 'wasm'
    ? `Backend: WebAssembly SIMD, ${threads === 1 ? 'one thread' : `${threads} threads`}${isolated ? ' (cross-origin isolated)' : ' (not cross-origin isolated: threads need COOP/COEP headers)'}`
    : `Backend: ${name} (plain JavaScript)`),
  step1: '1. Convolution', step2: '2. Filters', step3: '3. Pooling', step4: '4. Data', step5: '5. Model', step6: '6. Training', step7: '7. Results', step8: '8. Files',
  matrix: 'Matrix (the notebook\'s 5x5 example)', kernel: 'Kernel', mode: 'Boundary mode', compute: 'Correlate',
  photo: 'Photo: the built-in house, or drop / pick one', pick: 'Pick a photo', house: 'Use the house',
  bank: 'Filter from the bank', custom: 'Your kernel (JSON, 3x3 or 5x5)', apply: 'Apply',
  poolingHelp: 'The Laplacian map pooled three times with a 2x2 window, as Keras shapes it (batch, height, width, channels).',
  builtin: 'Built-in set (bars lying or standing)', folder: 'A folder with one sub-folder per class (drop it here or pick it)', pickFolder: 'Pick a folder',
  perClass: 'Images per class', size: 'Image size', load: 'Read the images', split: 'Validation split',
  filters: 'Filters (first block, or a list like 32-64-128-64)', kernelSize: 'Kernel size', blocks: 'Conv blocks', dense: 'Dense units', dropout: 'Dropout',
  batchNorm: 'Batch normalization', lr: 'Learning rate', optimizer: 'Optimizer', build: 'Build the model',
  epochs: 'Epochs', batchSize: 'Batch size', train: 'Train', stop: 'Stop',
  epochLine: (e: number, n: number, s: number, logs: Record<string, number>) => `Epoch ${e}/${n} - ${s.toFixed(1)}s - ${Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')}`,
  trained: (s: number, ips: number) => `Done in ${s.toFixed(1)} s (${ips.toFixed(0)} images/s while training).`,
  stopped: (s: number) => `Stopped after ${s.toFixed(1)} s; the model keeps the weights it had.`,
  predictPhoto: 'Predict a photo', predicted: (cls: string, p: number) => `Prediction: ${cls} (${p.toFixed(3)})`,
  save: 'Save the model (.keras)', loadModel: 'Load a .keras file',
  savedLine: (kb: number) => `Saved cnn-dogs-cats.keras (${kb.toFixed(0)} KB): it loads with loadModel in Node and in Keras 3.`,
  loadedLine: (name: string) => `Loaded ${name}.`,
  skipped: (file: string, why: string) => `Skipped ${file}: cannot be read as an image (${why}).`,
  skippedSummary: (n: number) => `Skipped ${n} file${n === 1 ? '' : 's'} that cannot be read as images.`,
  found: (n: number, k: number) => `Found ${n} images belonging to ${k} classes.`,
  needData: 'Read the images first (step 4).', needModel: 'Build the model first (step 5).',
  axisEpoch: 'epoch', loss: 'loss', accuracy: 'accuracy',
  wrongTitle: (actual: string, said: string) => `${actual} · ${said}`,
};

export type PageStrings = typeof en;

const es: PageStrings = {
  lang: 'English',
  intro: 'El curso de convnet en tu navegador: convolución, filtros, pooling y una CNN entrenada con tus propias fotos. No se instala nada y nada sale de este ordenador.',
  backend: (name, threads, isolated, adapter = null) => (name === 'webgpu'
    ? `Motor: WebGPU (${adapter ?? 'GPU'}) para entrenar y predecir; los filtros de la página en WebAssembly SIMD`
    : name === 'wasm'
    ? `Motor: WebAssembly SIMD, ${threads === 1 ? 'un hilo' : `${threads} hilos`}${isolated ? ' (aislamiento de origen cruzado)' : ' (sin aislamiento de origen cruzado: los hilos necesitan las cabeceras COOP/COEP)'}`
    : `Motor: ${name} (JavaScript)`),
  step1: '1. Convolución', step2: '2. Filtros', step3: '3. Pooling', step4: '4. Datos', step5: '5. Modelo', step6: '6. Entrenamiento', step7: '7. Resultados', step8: '8. Archivos',
  matrix: 'Matriz (el ejemplo de 5x5 del cuaderno)', kernel: 'Núcleo', mode: 'Modo de borde', compute: 'Correlar',
  photo: 'Foto: la casa integrada, o suelta / elige una', pick: 'Elegir una foto', house: 'Usar la casa',
  bank: 'Filtro del banco', custom: 'Tu núcleo (JSON, 3x3 o 5x5)', apply: 'Aplicar',
  poolingHelp: 'El mapa laplaciano con pooling tres veces, ventana de 2x2, con las formas de Keras (lote, alto, ancho, canales).',
  builtin: 'Conjunto integrado (barras acostadas o de pie)', folder: 'Una carpeta con una subcarpeta por clase (suéltala aquí o elígela)', pickFolder: 'Elegir una carpeta',
  perClass: 'Imágenes por clase', size: 'Tamaño de imagen', load: 'Leer las imágenes', split: 'Fracción de validación',
  filters: 'Filtros (primer bloque, o una lista como 32-64-128-64)', kernelSize: 'Tamaño del núcleo', blocks: 'Bloques convolucionales', dense: 'Unidades densas', dropout: 'Dropout',
  batchNorm: 'Normalización por lotes', lr: 'Tasa de aprendizaje', optimizer: 'Optimizador', build: 'Construir el modelo',
  epochs: 'Épocas', batchSize: 'Tamaño de lote', train: 'Entrenar', stop: 'Detener',
  epochLine: (e, n, s, logs) => `Época ${e}/${n} - ${s.toFixed(1)}s - ${Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')}`,
  trained: (s, ips) => `Terminado en ${s.toFixed(1)} s (${ips.toFixed(0)} imágenes/s durante el entrenamiento).`,
  stopped: (s) => `Detenido tras ${s.toFixed(1)} s; el modelo conserva los pesos que tenía.`,
  predictPhoto: 'Predecir una foto', predicted: (cls, p) => `Predicción: ${cls} (${p.toFixed(3)})`,
  save: 'Guardar el modelo (.keras)', loadModel: 'Cargar un archivo .keras',
  savedLine: (kb) => `Guardado cnn-dogs-cats.keras (${kb.toFixed(0)} KB): se carga con loadModel en Node y en Keras 3.`,
  loadedLine: (name) => `Cargado ${name}.`,
  skipped: (file, why) => `Omitido ${file}: no se puede leer como imagen (${why}).`,
  skippedSummary: (n) => `Omitido${n === 1 ? '' : 's'} ${n} archivo${n === 1 ? '' : 's'} que no se ${n === 1 ? 'puede' : 'pueden'} leer como imágenes.`,
  // Keras's own line, in English as the notebook prints it.
  found: en.found,
  needData: 'Primero lee las imágenes (paso 4).', needModel: 'Primero construye el modelo (paso 5).',
  axisEpoch: 'época', loss: 'pérdida', accuracy: 'exactitud',
  wrongTitle: (actual, said) => `${actual} · ${said}`,
};

export function pageStrings(lang: Lang): PageStrings { return lang === 'es' ? es : en; }
export function notebook(lang: Lang) { return notebookStrings(lang); }
