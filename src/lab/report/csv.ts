/**
 * @file The report as CSV, one row per configuration in the article's layout (its columns
 * model, init_std, learning_rate, activation, steps, batch_size, then without BN val/test, with
 * BN val/test, it/s), each bnlab figure followed by its std over seeds, the article's figure,
 * the signed difference and the verdict, and after a validation figure bnlab's last-half mean and
 * its std; then, for each other norm of `reproduce --norms`, its figures (no article's, no verdict). `article_steps` says which of the article's runs the figures come from (its
 * 50,000-step table, or its 3,000-step run of model 1). Pure.
 */
import type { NormKind } from '../../nn/spec.js';
import type { ConfigSummary, GridReport, NetworkSummary } from './summary.js';
import type { Verdict } from './verdict.js';

const CELLS = [
  { prefix: 'no_bn_val_acc', batchNorm: false, split: 'validation' },
  { prefix: 'no_bn_test_acc', batchNorm: false, split: 'test' },
  { prefix: 'bn_val_acc', batchNorm: true, split: 'validation' },
  { prefix: 'bn_test_acc', batchNorm: true, split: 'test' },
] as const;

export const REPORT_CSV_HEADER = [
  'model',
  'init_std',
  'learning_rate',
  'activation',
  'steps',
  'batch_size',
  'seeds',
  'article_steps',
  ...CELLS.flatMap(({ prefix, split }) => [
    `bnlab_${prefix}`,
    `bnlab_${prefix}_std`,
    `article_${prefix}`,
    `${prefix}_difference`,
    `${prefix}_verdict`,
    // The last-half mean sits beside the final validation accuracy; the verdict is on the final value.
    ...(split === 'validation' ? [`bnlab_${prefix}_last_half`, `bnlab_${prefix}_last_half_std`] : []),
  ]),
  'bnlab_no_bn_it_per_s',
  'bnlab_bn_it_per_s',
  'article_no_bn_it_per_s',
  'article_bn_it_per_s',
];

/** The columns of a network with another norm: `bnlab_ln_val_acc`, …, `bnlab_ln_it_per_s`. */
function otherNormColumns(norm: NormKind): string[] {
  const prefix = `bnlab_${norm}`;
  return [
    `${prefix}_val_acc`,
    `${prefix}_val_acc_std`,
    `${prefix}_val_acc_last_half`,
    `${prefix}_val_acc_last_half_std`,
    `${prefix}_test_acc`,
    `${prefix}_test_acc_std`,
    `${prefix}_it_per_s`,
  ];
}

/** The header of a report whose runs include `otherNorms` besides none and bn. */
function reportCsvHeader(otherNorms: readonly NormKind[]): string[] {
  return [...REPORT_CSV_HEADER, ...otherNorms.flatMap(otherNormColumns)];
}

function otherNormValues(network: NetworkSummary | null): string[] {
  return [
    number(network?.validation.mean, 4),
    number(network?.validation.std, 4),
    number(network?.lastHalf.mean, 4),
    number(network?.lastHalf.std, 4),
    number(network?.test.mean, 4),
    number(network?.test.std, 4),
    number(network?.stepsPerSecond.mean, 1),
  ];
}

function number(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '' : value.toFixed(digits);
}

function verdictWord(verdict: Verdict | undefined): string {
  if (!verdict) return '';
  switch (verdict.kind) {
    case 'agrees':
      return 'agrees';
    case 'differs':
      return 'differs';
    case 'not-compared':
      return 'not compared';
    default:
      return verdict satisfies never;
  }
}

function row(summary: ConfigSummary): string[] {
  const { config, articleShown: article } = summary;
  const networks = [summary.withoutBn, summary.withBn, ...summary.others];
  const seeds = Math.max(...networks.map((network) => network?.runs.length ?? 0));
  const settings = networks.find((network) => network !== null)?.runs[0]?.settings;
  const steps = settings?.steps;
  const batchSize = settings?.batchSize;
  const values = [
    String(config.id),
    String(config.initStd),
    String(config.learningRate),
    config.activation,
    String(steps ?? ''),
    String(batchSize ?? ''),
    String(seeds),
    String(article.steps),
  ];
  for (const { batchNorm, split } of CELLS) {
    const network: NetworkSummary | null = batchNorm ? summary.withBn : summary.withoutBn;
    const articleValue = (batchNorm ? article.withBn : article.withoutBn)[split];
    const verdict = network?.verdicts[split];
    values.push(
      number(network?.[split].mean, 4),
      number(network?.[split].std, 4),
      number(articleValue, 4),
      verdict && verdict.kind !== 'not-compared' ? number(verdict.difference, 4) : '',
      verdictWord(verdict),
    );
    if (split === 'validation') values.push(number(network?.lastHalf.mean, 4), number(network?.lastHalf.std, 4));
  }
  values.push(
    number(summary.withoutBn?.stepsPerSecond.mean, 1),
    number(summary.withBn?.stepsPerSecond.mean, 1),
    number(article.withoutBnStepsPerSecond, 2),
    number(article.withBnStepsPerSecond, 2),
  );
  for (const network of summary.others) values.push(...otherNormValues(network));
  return values;
}

/** A CSV field, quoted (its quotes doubled) when it holds a quote, a comma or a line break. */
export function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function buildCsvReport(report: GridReport): string {
  const rows = [reportCsvHeader(report.otherNorms), ...report.configs.map(row)];
  return `${rows.map((fields) => fields.map(csvField).join(',')).join('\n')}\n`;
}
