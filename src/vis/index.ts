// densepose-ts/vis: drawings over images from DensePose results, texture transfer, training curves.
export type { AtlasImage, DensePoseMap, DensePosePerson, RgbImage } from './types.ts';
export { NUM_PARTS, PART_COLORS, parula, partColor } from './colormap.ts';
export { boxRaster, compositeIuv, personMask, uvByte, wholeImageIUV, type BoxRaster, type IuvComposite } from './composite.ts';
export { drawParts, type DrawPartsOptions } from './draw-parts.ts';
export { drawChart, type DrawChartOptions } from './draw-charts.ts';
export { PART_NAMES, partName } from './part-names.ts';
export { drawPartLegend, partLegendLayout, withPartLegend, type LegendLayout, type PartLegendOptions } from './legend.ts';
export { drawUvIsolines, type UvIsolineOptions } from './isolines.ts';
export { drawBoxes, type DrawBoxesOptions } from './draw-boxes.ts';
export { placeLabels, type Rect } from './label-placement.ts';
export { compareSideBySide, type CompareOptions } from './compare.ts';
export { ATLAS_COLS, ATLAS_ROWS, atlasTileOrigin, atlasTileSize, extractAtlas, paintAtlas, type ExtractAtlasOptions, type PaintAtlasOptions } from './texture.ts';
export { encodePng, readAtlasImage, savePng, writeFileAtomic } from './png.ts';
export { peopleFromChallengeResults, personFromChallengeResult, toChallengeResult, type ChallengeResult, type PeopleFromResultsOptions } from './challenge-results.ts';
export { curvesData, curvesSpec, curvesSvg, plotCurves, type CurvesRow, type PlotCurvesOptions } from './plot-curves.ts';
