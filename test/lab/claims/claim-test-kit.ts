/**
 * @file What the claim tests share: MNIST loaded once per test file, the backend to train on
 * (the fastest that loads here), tiny budgets' common checks (a well-formed result) and the
 * figure check (every figure renders to an SVG and a PNG file).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kernels } from '../../../src/core/kernels.js';
import type { MnistData } from '../../../src/data/mnist.js';
import type { ClaimContext, ClaimResult } from '../../../src/lab/claims/claim.js';
import { loadMnist } from '../../../src/node/mnist-files.js';
import { writeChart } from '../../../src/node/render-chart.js';
import { backendsUnderTest } from '../../helpers/backends.js';

let mnist: Promise<MnistData> | null = null;

export function testData(): Promise<MnistData> {
  mnist ??= loadMnist();
  return mnist;
}

/**
 * The backend the training claims run on in tests: wasm where it loads (fast), else the
 * reference. BNLAB_TEST_BACKEND=js forces the reference, to time the suite as CI without wasm runs it.
 */
export async function fastestKernels(): Promise<Kernels> {
  const backends = await backendsUnderTest();
  return process.env.BNLAB_TEST_BACKEND === 'js' ? backends[0]! : backends.at(-1)!;
}

export async function testContext(kernels?: Kernels): Promise<ClaimContext> {
  return { kernels: kernels ?? (await fastestKernels()), data: await testData(), quick: true, seed: 1 };
}

/** A result a report can be made of: named, every number a number or text, tables rectangular, a verdict sentence. */
export function assertWellFormed(result: ClaimResult, name: string): void {
  assert.equal(result.name, name);
  assert.ok(result.title.length > 0 && result.articleSays.length > 0 && result.method.length > 0);
  assert.ok(result.lines.length > 0, 'prints something');
  assert.ok(result.verdict.text.length > 20, `a verdict sentence: ${result.verdict.text}`);
  for (const [key, value] of Object.entries(result.numbers)) {
    assert.ok(typeof value === 'string' || !Number.isNaN(value), `number ${key} is NaN`);
  }
  for (const table of result.tables) {
    for (const row of table.rows)
      assert.equal(row.length, table.columns.length, `a row of "${table.title}" has ${row.length} cells for ${table.columns.length} columns`);
  }
  assert.ok(result.figures.length >= 1, 'at least one figure');
  assert.ok(result.elapsedMs >= 0);
}

/** Renders every figure of `result` with the CLI's writer and checks both files exist and look like what they say. */
export async function assertFiguresRender(result: ClaimResult): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bnlab-claim-'));
  try {
    for (const figure of result.figures) {
      const { svgPath, pngPath } = await writeChart(figure.spec, join(dir, `${result.name}-${figure.name}`));
      assert.ok((await stat(svgPath)).size > 1000, `${svgPath} is written`);
      assert.ok((await stat(pngPath)).size > 1000, `${pngPath} is written`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
