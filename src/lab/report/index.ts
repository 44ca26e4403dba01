/** @file The report's public surface: the run record, the summary model, and its builders. */
export * from './run-record.js';
export * from './verdict.js';
export * from './summary.js';
export * from './format.js';
export * from './charts.js';
export * from './markdown.js';
export * from './csv.js';
export * from './html.js';
