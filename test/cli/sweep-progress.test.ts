/**
 * @file The sweep's progress display (cli/sweep-progress.ts): plain lines per started
 * and finished run when not on a terminal; on a terminal, a block of one line per worker redrawn
 * in place (cursor up by exactly the lines drawn, then clear), with finished runs above it.
 */

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { createSweepProgress } from '../../src/cli/sweep-progress.js';

function collect(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { text: () => string };
  stream.text = () => chunks.join('');
  return stream;
}

const [first, second] = [{ id: 'c3-nobn-s1' }, { id: 'c3-bn-s1' }];

describe('grid progress', () => {
  test('not on a terminal: one line per started and finished run, no escape codes', () => {
    const stream = collect();
    const progress = createSweepProgress({ totalRuns: 4, alreadyFinished: 2, stepsPerRun: 1000, jobs: 2, style: 'lines' }, stream);
    progress.start(0, first!);
    progress.progress(0, 500, 800);
    progress.finish(0, first!, 'validation 0.0958');
    progress.done();
    const lines = stream.text().trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[0], 'started c3-nobn-s1 on worker 1 (1 started, 2/4 finished)');
    assert.match(lines[1]!, /^finished c3-nobn-s1: validation 0\.0958 \[3\/4/);
    assert.ok(!stream.text().includes('\x1b'));
  });

  test('on a terminal: a block of head line + one line per worker, redrawn with cursor-up', () => {
    const stream = collect();
    const progress = createSweepProgress({ totalRuns: 2, alreadyFinished: 0, stepsPerRun: 1000, jobs: 2, style: 'live' }, stream);
    progress.start(0, first!);
    progress.start(1, second!); // within 200 ms of the first draw: throttled
    progress.finish(0, first!, 'validation 0.0958');
    progress.done();
    const text = stream.text();
    const blocks = text.split('\x1b[3A\r\x1b[J');
    assert.equal(blocks.length, 3, 'the 3-line block is cleared twice: before the finished line, and at the end');
    assert.match(blocks[0]!, /^0\/2 runs finished .*\n {2}worker 1: c3-nobn-s1 +step +0\/1000 .*\n {2}worker 2: idle\x1b\[K\n$/);
    assert.match(blocks[1]!, /^finished c3-nobn-s1: validation 0\.0958 \[1\/2\]\n1\/2 runs finished .*\n {2}worker 1: idle\x1b\[K\n {2}worker 2: c3-bn-s1 /);
    assert.equal(blocks[2], '');
  });
});
