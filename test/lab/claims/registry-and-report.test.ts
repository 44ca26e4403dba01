/**
 * @file The claim registry (the article's eight claims and issue 12's, unique names, selection keeps registry order and
 * reports unknown names) and the report text (sections, escaping, SVG ids scoped per figure).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClaimResult } from '../../../src/lab/claims/claim.js';
import { CLAIM_NAMES, CLAIMS, selectClaims } from '../../../src/lab/claims/index.js';
import { escapeHtml, explainReportHtml, explainReportMarkdown, scopeSvgIds, verdictLine } from '../../../src/lab/explain-report.js';

test('the registry holds the eight claims of the article and those of issue 12, each with a description', () => {
  assert.deepEqual([...CLAIM_NAMES].sort(), [
    'batch-size',
    'bias-redundancy',
    'covariate-shift',
    'folding',
    'inference-statistics',
    'noisy-bn',
    'non-iid-batches',
    'placement',
    'regularization',
    'saturation',
    'scale-invariance',
    'small-batch',
    'smoothness',
    'sync-bn',
    'worked-example',
  ]);
  for (const claim of CLAIMS) assert.ok(claim.description.length > 10 && claim.articleSays.length > 10, claim.name);
});

test('selectClaims: all by default, registry order, unknown names returned', () => {
  assert.equal(selectClaims([]).claims.length, CLAIMS.length);
  const { claims, unknown } = selectClaims(['bias-redundancy', 'worked-example', 'nope']);
  assert.deepEqual(
    claims.map((c) => c.name),
    ['worked-example', 'bias-redundancy'],
  );
  assert.deepEqual(unknown, ['nope']);
});

const fakeResult = (name: string, holds: boolean): ClaimResult => ({
  name,
  title: `Title <${name}>`,
  articleSays: 'says a | b',
  method: 'measured',
  numbers: { x: 1 },
  tables: [{ title: 'T', columns: ['a', 'b'], rows: [[1, 'x|y']] }],
  verdict: { holds, text: holds ? 'holds: yes' : 'not shown: no' },
  figures: [],
  lines: ['line <1>'],
  elapsedMs: 1500,
});
const svg = '<svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"></g></svg>';

test('the Markdown and HTML reports have one section per claim, escaped, with inlined scoped SVGs', () => {
  const input = {
    results: [
      { result: fakeResult('alpha', true), figures: [{ name: 'f', caption: 'cap', svgFile: 'alpha-f.svg', pngFile: 'alpha-f.png', svg }] },
      { result: fakeResult('beta', false), figures: [{ name: 'f', caption: 'cap', svgFile: 'beta-f.svg', pngFile: 'beta-f.png', svg }] },
    ],
    bnlabVersion: '0.0.0',
    backend: 'float32',
    dataSource: 'test',
    quick: true,
    seed: 1,
  };
  const markdown = explainReportMarkdown(input);
  assert.match(markdown, /## 1\. Title <alpha> \(`alpha`\)/);
  assert.match(markdown, /## 2\. Title <beta> \(`beta`\)/);
  assert.match(markdown, /\| 1 \| x\\\|y \|/);
  assert.match(markdown, /!\[cap\]\(alpha-f\.svg\)/);
  const html = explainReportHtml(input);
  assert.equal(html.match(/<svg/g)?.length, 2);
  assert.ok(html.includes('id="alpha-f-clip1"') && html.includes('url(#beta-f-clip1)'), 'ids scoped per figure');
  assert.ok(!html.includes('Title <alpha>') && html.includes('Title &lt;alpha&gt;'));
  assert.equal(scopeSvgIds(svg, 'p'), svg.replace('id="clip1"', 'id="p-clip1"').replace('url(#clip1)', 'url(#p-clip1)'));
  assert.equal(escapeHtml('<a href="x">&</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  assert.equal(verdictLine(fakeResult('alpha', true)), '✔ alpha: holds: yes');
  assert.equal(verdictLine(fakeResult('beta', false)), '✘ beta: not shown: no');
});
