export { Figure, Axes, figure, gcf, gca, subplot, imshow, title, axis, suptitle, savefig, close, colormap, colormapNames, niceTicks } from './figure.js';
export type { FigureOptions, ImshowOptions, TitleOptions, Drawable } from './figure.js';
