/**
 * @file Test helper: reads reference/article-table.csv (the article's table, copied into the
 * repository) so that tests compare bnlab's typed data and grid with the article's own figures.
 */
import { readFileSync } from 'node:fs';

export interface ArticleCsvRow {
  model: string;
  initStd: number;
  learningRate: number;
  activation: string;
  steps: number;
  batchSize: number;
  noBnVal: number;
  noBnTest: number;
  bnVal: number;
  bnTest: number;
  noBnItPerS: number | null;
  bnItPerS: number | null;
}

// dist/test/lab/article-csv.js -> the repository root
export const ARTICLE_CSV_URL = new URL('../../../reference/article-table.csv', import.meta.url);

export function readArticleCsv(): ArticleCsvRow[] {
  const lines = readFileSync(ARTICLE_CSV_URL, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
  const header = lines[0]!.split(',');
  return lines.slice(1).map((line) => {
    const fields = line.split(',');
    const get = (name: string): string => {
      const index = header.indexOf(name);
      if (index < 0) throw new Error(`article-table.csv has no column ${name}`);
      return fields[index]!;
    };
    const optional = (name: string): number | null => (get(name) === '' ? null : Number(get(name)));
    return {
      model: get('model'),
      initStd: Number(get('init_std')),
      learningRate: Number(get('learning_rate')),
      activation: get('activation'),
      steps: Number(get('steps')),
      batchSize: Number(get('batch_size')),
      noBnVal: Number(get('no_bn_val_acc')),
      noBnTest: Number(get('no_bn_test_acc')),
      bnVal: Number(get('bn_val_acc')),
      bnTest: Number(get('bn_test_acc')),
      noBnItPerS: optional('no_bn_it_per_s'),
      bnItPerS: optional('bn_it_per_s'),
    };
  });
}
