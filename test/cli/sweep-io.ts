/**
 * @file Test support: in-memory output streams for the sweep runner (`bnlab sweep`, `bnlab
 * reproduce` in process), and an io that collects what it prints and ignores Ctrl-C.
 */
import { Writable } from 'node:stream';
import type { SweepIo } from '../../src/cli/sweep-runner.js';

export type Collected = Writable & { text: () => string };

export function collect(): Collected {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Collected;
  stream.text = () => chunks.join('');
  return stream;
}

export function quietIo(): SweepIo & { out: Collected; err: Collected } {
  const out = collect(),
    err = collect();
  return { stdout: out, stderr: err, watchInterrupt: () => ({ dispose() {} }), out, err };
}
