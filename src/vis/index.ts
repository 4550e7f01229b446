// densepose-ts/vis: drawings over images from DensePose results, texture transfer, training curves.
export type { AtlasImage, DensePoseMap, DensePosePerson, RgbImage } from './types.ts';
export { NUM_PARTS, PART_COLORS, parula, partColor } from './colormap.ts';
export { boxRaster, compositeIuv, uvByte, wholeImageIUV, type BoxRaster, type IuvComposite } from './composite.ts';
export { drawParts, type DrawPartsOptions } from './draw-parts.ts';
export { drawUvIsolines, type UvIsolineOptions } from './isolines.ts';
export { drawBoxes, type DrawBoxesOptions } from './draw-boxes.ts';
export { compareSideBySide, type CompareOptions } from './compare.ts';
export { ATLAS_COLS, ATLAS_ROWS, atlasTileOrigin, atlasTileSize, extractAtlas, paintAtlas, type ExtractAtlasOptions, type PaintAtlasOptions } from './texture.ts';
export { encodePng, readAtlasImage, savePng, writeFileAtomic } from './png.ts';
export { peopleFromChallengeResults, personFromChallengeResult, toChallengeResult, type ChallengeResult, type PeopleFromResultsOptions } from './challenge-results.ts';
export { curvesData, curvesSpec, curvesSvg, plotCurves, type CurvesRow, type PlotCurvesOptions } from './plot-curves.ts';
