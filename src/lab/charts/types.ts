/**
 * @file The data shapes every chart builder takes, and the spec type they return. Type-only:
 * nothing here runs, so the builders stay free of Node and of vega at run time.
 */

import type { TopLevelSpec } from 'vega-lite';

/** One observation of a curve, e.g. (training step, validation accuracy). */
export interface Point {
  x: number;
  y: number;
}

/** A named curve; the name is its legend label and picks its color (see series-colors.ts). */
export interface Series {
  name: string;
  points: Point[];
}

/** A Vega-Lite specification, ready for vega-lite's compile, vega-embed, or render-chart.ts. */
export type VegaLiteSpec = TopLevelSpec;

/** Which scale an axis uses; a log axis cannot show values at or below zero. */
export type AxisScale = 'linear' | 'log';
