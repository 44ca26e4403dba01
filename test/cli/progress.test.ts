/**
 * @file Progress output: piped, one plain line per validation point and per note, the same for
 * one run and for a group of runs training at once (their lines interleave); on a terminal, a
 * group draws one bar per started run as a block redrawn in place, notes above it, and leaves
 * the block on screen when closed; with --json, nothing.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress, createProgressGroup } from '../../src/cli/progress.js';

function fakeStream(): NodeJS.WriteStream & { text: () => string; chunks: string[] } {
  const chunks: string[] = [];
  return {
    write: (chunk: string) => {
      chunks.push(chunk);
      return true;
    },
    chunks,
    text: () => chunks.join(''),
  } as unknown as NodeJS.WriteStream & { text: () => string; chunks: string[] };
}

const point = (step: number, validationAccuracy: number, validationLoss: number) => ({ step, validationAccuracy, validationLoss, trainingLoss: NaN });
const LINE = /^(Without|With) Batch Norm: step \d+\/3000, validation accuracy \d\.\d{4}, loss (\d+\.\d{4}|NaN), \d+\.\d it\/s$/;

test('piped: one run and a group write the same validation lines; notes are plain lines', () => {
  const single = fakeStream();
  const one = createProgress('With Batch Norm', 3000, 'lines', single);
  one.step(500);
  one.validation(point(500, 0.908, 0.29634));
  one.note('With Batch Norm: a note');
  one.done();

  const grouped = fakeStream();
  const group = createProgressGroup(
    [
      { label: 'Without Batch Norm', totalSteps: 3000 },
      { label: 'With Batch Norm', totalSteps: 3000 },
    ],
    'lines',
    grouped,
  );
  const [without, withBn] = group.runs;
  without!.start();
  withBn!.start();
  withBn!.step(200); // throttled step reports write nothing when piped
  withBn!.validation(point(500, 0.908, 0.29634));
  without!.validation(point(500, 0.4294, 2.1889));
  without!.note('Without Batch Norm: the loss became NaN at step 3; the network diverged (recorded, the run goes on).');
  without!.validation(point(1000, 0.0958, NaN));
  without!.done();
  withBn!.done();
  group.close();

  const lines = grouped.text().split('\n').filter(Boolean);
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^With Batch Norm: step 500\/3000, validation accuracy 0\.9080, loss 0\.2963, \d+\.\d it\/s$/);
  assert.match(lines[1]!, /^Without Batch Norm: step 500\/3000, validation accuracy 0\.4294, loss 2\.1889, /);
  assert.equal(lines[2], 'Without Batch Norm: the loss became NaN at step 3; the network diverged (recorded, the run goes on).');
  assert.match(lines[3]!, /^Without Batch Norm: step 1000\/3000, validation accuracy 0\.0958, loss NaN, /);
  for (const line of [lines[0]!, lines[1]!, lines[3]!]) assert.match(line, LINE);
  assert.ok(!/\x1b|\r/.test(grouped.text()), 'no terminal codes when piped');
  assert.equal(
    single.text().replace(/, \d+\.\d it\/s/, ''),
    'With Batch Norm: step 500/3000, validation accuracy 0.9080, loss 0.2963\nWith Batch Norm: a note\n',
  );
});

test('on a terminal: one bar per started run, redrawn in place as a block; a note goes above it; close leaves it on screen', () => {
  const stream = fakeStream();
  const group = createProgressGroup(
    [
      { label: 'Without Batch Norm', totalSteps: 100 },
      { label: 'With Batch Norm', totalSteps: 100 },
    ],
    'bar',
    stream,
  );
  const [without, withBn] = group.runs;
  without!.start();
  assert.equal(stream.chunks.length, 1);
  assert.match(stream.chunks[0]!, /^Without Batch Norm {3}0%\|\s+\| 0\/100 \[00:00<00:00, 0\.0 it\/s\]\x1b\[K\n$/);
  withBn!.start();
  assert.match(stream.chunks[1]!, /^\x1b\[1A\rWithout Batch Norm .*\x1b\[K\nWith Batch Norm .*\x1b\[K\n$/, 'the second bar joins the block');

  withBn!.validation(point(50, 0.9, 0.3));
  withBn!.done(); // a finished run's bar is drawn at once, whatever the throttle
  const finished = stream.chunks.at(-1)!;
  assert.match(finished, /^\x1b\[2A\r/, 'the block is redrawn over itself');
  assert.match(finished, /With Batch Norm {2}50%\|█{12} {12}\| 50\/100 \[.*, val 0\.9000\]/);

  without!.note('Without Batch Norm: interrupted after 10 of 100 steps; writing what was asked for.');
  const [clear, message, redraw] = stream.chunks.slice(-3);
  assert.equal(clear, '\x1b[2A\r\x1b[J', 'the block is cleared');
  assert.equal(message, 'Without Batch Norm: interrupted after 10 of 100 steps; writing what was asked for.\n');
  assert.equal(redraw!.split('\n').length, 3, 'both bars drawn again below the note');
  assert.ok(!redraw!.startsWith('\x1b['), 'drawn fresh, not over the note');

  group.close();
  const before = stream.chunks.length;
  withBn!.note('after the block');
  assert.deepEqual(stream.chunks.slice(before), ['after the block\n'], 'once closed, output goes below the bars');
});

test('--json: a group writes nothing', () => {
  const stream = fakeStream();
  const group = createProgressGroup([{ label: 'Without Batch Norm', totalSteps: 10 }], 'silent', stream);
  const [run] = group.runs;
  run!.start();
  run!.step(5);
  run!.validation(point(5, 0.5, 1));
  run!.note('a note');
  run!.done();
  group.close();
  assert.equal(stream.text(), '');
});
