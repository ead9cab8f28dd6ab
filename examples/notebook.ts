/**
 * The notebook, cell by cell, in convnet's TypeScript API. Each cell shows the notebook's Python as a
 * comment, then the same thing in convnet.
 *
 *   npx tsx examples/notebook.ts [PetImages/] [house.jpg]
 *
 * It imports the package by its name, as a copy in your own project does after `npm i convnet-ts`;
 * in a clone of this repository the name resolves to the clone itself (after `npm run build`).
 *
 * With the notebook's data (`convnet download` fetches PetImages/ and house.jpg) it runs the notebook
 * as written: 150x150 images, batch 128, 10 epochs. Without it, it generates convnet's small built-in
 * set and runs in a couple of minutes at 32x32 (same model, smaller input). Outputs go to
 * example-out/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  imread, figure, layers, Sequential, ImageDataGenerator, loadModel, generateBuiltinData, correlate,
} from 'convnet-ts';

/** A shape as Python prints a tuple: (1, 306, 461, 1). */
const fmtShape = (shape: readonly number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

const OUT = 'example-out';
mkdirSync(OUT, { recursive: true });
let dataDir = process.argv[2] ?? 'PetImages';
let housePath = process.argv[3] ?? 'house.jpg';
let size = 150, batchSize = 128, epochs = 10;
if (!existsSync(dataDir)) {
  console.log(`${dataDir} not found: using convnet's built-in data (run 'convnet download' for the notebook's photos).`);
  const builtin = await generateBuiltinData(join(OUT, 'data'));
  dataDir = builtin.dataDir;
  if (!existsSync(housePath)) housePath = builtin.imagePath;
  size = 32; batchSize = 32; epochs = 6;
}

// ---- Cell: correlation of a small matrix ------------------------------------------------------
// a = np.array([[4,1,7,2,3],[8,3,1,2,2],[6,5,7,4,3],[2,2,3,1,3],[4,3,4,2,3]])
// f = np.array([[1,0,-1],[1,0,-1],[1,0,-1]])
// ndimage.correlate(a, f, mode='constant')
const a = [[4, 1, 7, 2, 3], [8, 3, 1, 2, 2], [6, 5, 7, 4, 3], [2, 2, 3, 1, 3], [4, 3, 4, 2, 3]];
const f = [[1, 0, -1], [1, 0, -1], [1, 0, -1]];
console.log(correlate(a, f, { mode: 'constant' }).toArray());

// ---- Cell: the photo in gray --------------------------------------------------------------------
// img = io.imread('house.jpg', as_gray=True)
const img = await imread(housePath, { asGray: true });

// ---- Cells: three filters and their activation maps ---------------------------------------------
// vertical = np.array([[-1,0,1],[-1,0,1],[-1,0,1]]); act = ndimage.correlate(img, vertical)
// fig, ax = plt.subplots(1, 2); ax[0].imshow(img, cmap='gray'); ax[1].imshow(act, cmap='gray'); ...
const filters: Record<string, number[][]> = {
  'Vertical edges': [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
  'Horizontal edges': [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
  Laplacian: [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
};
let laplacian = img;
for (const [name, kernel] of Object.entries(filters)) {
  const act = correlate(img, kernel);
  const fig = figure({ figsize: [10, 4] });
  fig.subplot(1, 2, 1).imshow(img, { cmap: 'gray' }).title('Original').axis('off');
  fig.subplot(1, 2, 2).imshow(act, { cmap: 'gray' }).title(name).axis('off');
  await fig.savefig(join(OUT, `${name.toLowerCase().replace(' ', '-')}.png`));
  laplacian = act;
}

// ---- Cell: pooling three times --------------------------------------------------------------------
// x = act.reshape(1, *act.shape, 1); print('Original image:', x.shape)
// for i in range(3): x = MaxPooling2D((2, 2))(x); print(x.shape)    (and AveragePooling2D)
let mx = laplacian.reshape([1, laplacian.shape[0], laplacian.shape[1], 1]);
let av = mx;
console.log('Original image:', fmtShape(mx.shape));
const poolFig = figure({ figsize: [12, 6] });
for (let i = 1; i <= 3; i++) {
  mx = new layers.MaxPooling2D([2, 2]).apply(mx);
  av = new layers.AveragePooling2D([2, 2]).apply(av);
  console.log('Max pooling', fmtShape(mx.shape), ' Average pooling', fmtShape(av.shape));
  poolFig.subplot(2, 3, i).imshow(mx, { cmap: 'gray' }).title(`Max pooling ${fmtShape(mx.shape)}`).axis('off');
  poolFig.subplot(2, 3, 3 + i).imshow(av, { cmap: 'gray' }).title(`Average pooling ${fmtShape(av.shape)}`).axis('off');
}
await poolFig.savefig(join(OUT, 'pooling.png'));

// ---- Cell: the images ----------------------------------------------------------------------------
// datagen = ImageDataGenerator(rescale=1./255, validation_split=0.2)
// train = datagen.flow_from_directory("PetImages/", target_size=(150, 150), batch_size=128,
//                                     class_mode='binary', seed=42, shuffle=True, subset="training")
// val = datagen.flow_from_directory(..., subset="validation")
const datagen = new ImageDataGenerator({ rescale: 1 / 255, validationSplit: 0.2 });
const flow = (subset: 'training' | 'validation') => datagen.flowFromDirectory(dataDir, {
  targetSize: [size, size], batchSize, classMode: 'binary', seed: 42, shuffle: true, subset,
});
const train = await flow('training');
const val = await flow('validation');
console.log(train.classIndices);

// ---- Cell: the model -------------------------------------------------------------------------------
// model = Sequential([Conv2D(32, (3,3), activation='relu', padding='same', input_shape=(150,150,3)),
//                     MaxPooling2D((2,2)), Conv2D(64, ...), MaxPooling2D, Conv2D(128, ...), MaxPooling2D,
//                     Conv2D(64, ...), MaxPooling2D, Flatten(), Dropout(0.5), Dense(128, activation='relu'),
//                     Dense(1, activation='sigmoid')])
// model.summary()
const model = new Sequential([
  new layers.Conv2D(32, [3, 3], { activation: 'relu', padding: 'same', inputShape: [size, size, 3] }),
  new layers.MaxPooling2D([2, 2]),
  new layers.Conv2D(64, [3, 3], { activation: 'relu', padding: 'same' }),
  new layers.MaxPooling2D([2, 2]),
  new layers.Conv2D(128, [3, 3], { activation: 'relu', padding: 'same' }),
  new layers.MaxPooling2D([2, 2]),
  new layers.Conv2D(64, [3, 3], { activation: 'relu', padding: 'same' }),
  new layers.MaxPooling2D([2, 2]),
  new layers.Flatten(),
  new layers.Dropout(0.5),
  new layers.Dense(128, { activation: 'relu' }),
  new layers.Dense(1, { activation: 'sigmoid' }),
]);
model.summary();

// ---- Cell: training ----------------------------------------------------------------------------------
// model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
// history = model.fit(train, epochs=10, validation_data=val)
model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
const history = await model.fit(train, { epochs, validationData: val });
console.log('val_accuracy per epoch:', history.history.val_accuracy.map((v) => v.toFixed(4)).join(' '));

// ---- Cell: save and load ------------------------------------------------------------------------------
// model.save("cnn-dogs-cats.keras"); model = load_model("cnn-dogs-cats.keras")
const modelPath = join(OUT, 'cnn-dogs-cats.keras');
await model.save(modelPath);
const loaded = await loadModel(modelPath);

// ---- Cell: predictions on a validation batch -----------------------------------------------------------
// x, y = next(val); preds = model.predict(x)
// for i in range(8): plt.subplot(2, 4, i+1); plt.imshow(x[i]); plt.title(f"Predicción: {preds[i][0]:.2f}")
const batch = await val.getBatch(0);
const x8 = batch.x.sliceBatch(0, Math.min(8, batch.x.shape[0]));
const preds = (await loaded.predict(x8)).dataSync();
const grid = figure({ figsize: [12, 6.6] });
for (let i = 0; i < x8.shape[0]; i++) {
  grid.subplot(2, 4, i + 1).imshow(x8.sliceBatch(i, i + 1).reshape(x8.shape.slice(1))).title(`Prediction: ${preds[i].toFixed(2)}`).axis('off');
}
await grid.savefig(join(OUT, 'predictions.png'));
await train.close();
await val.close();
console.log(`Figures and the model are in ${OUT}/`);
