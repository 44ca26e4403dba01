/**
 * @file The worked-example claim reproduces the article's figures for feature 1 (μ 1.65, σ² 0.44,
 * x̂ to two decimals; derivation: Σ(x−μ)² = 3.52 over m = 8), and γ = √(σ²+ε), β = μ give the
 * input back, on every backend.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ARTICLE_XHAT, runWorkedExample, workedExampleClaim } from '../../../src/lab/claims/worked-example.js';
import { backendsUnderTest } from '../../helpers/backends.js';
import { assertFiguresRender, assertWellFormed } from './claim-test-kit.js';

for (const kernels of await backendsUnderTest()) {
  describe(`claim worked-example [${kernels.name}: ${kernels.variant}]`, () => {
    test('μ₁ = 1.65, σ²₁ = 0.44, x̂ to two decimals, identity with γ = √σ², β = μ; verdict holds', async () => {
      const result = await runWorkedExample({ kernels });
      assertWellFormed(result, workedExampleClaim.name);
      assert.ok(Math.abs((result.numbers.mean1 as number) - 1.65) < 1e-6);
      assert.ok(Math.abs((result.numbers.variance1 as number) - 0.44) < 1e-6);
      assert.ok((result.numbers.maxXhatErrorVsArticle as number) < 0.005);
      assert.ok((result.numbers.identityMaxError as number) < 1e-5, `identity error ${result.numbers.identityMaxError}`);
      assert.equal(result.verdict.holds, true);
      const stageTable = result.tables[1]!;
      assert.deepEqual(
        stageTable.rows.map((row) => Number(row[5])),
        ARTICLE_XHAT,
        "the x̂₁ column is the article's row",
      );
    });
  });
}

test('claim worked-example: its figure renders to SVG and PNG', async () => {
  const [kernels] = await backendsUnderTest();
  await assertFiguresRender(await runWorkedExample({ kernels: kernels! }));
});
