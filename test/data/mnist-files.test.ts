/**
 * @file loadMnist on folders made in a temp dir: gzipped files (as Fashion-MNIST ships them), a
 * mix of plain and gzipped, a gzip stream under the plain name, a missing file, a missing folder
 * and a damaged gzip file, each failure a DataError whose message names the path.
 */

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/idx.js';
import { loadMnist, MNIST_FILE_NAMES } from '../../src/node/mnist-files.js';
import { idxBytes, patternImages, patternLabels } from './idx-fixtures.js';

const TRAIN_COUNT = 5003; // the validation split takes 5,000, leaving 3 to train on
const TEST_COUNT = 4;

/** The four crafted files' bytes, by MNIST_FILE_NAMES key. */
const files = {
  trainImages: idxBytes([TRAIN_COUNT, 28, 28], patternImages(TRAIN_COUNT)),
  trainLabels: idxBytes([TRAIN_COUNT], patternLabels(TRAIN_COUNT)),
  testImages: idxBytes([TEST_COUNT, 28, 28], patternImages(TEST_COUNT)),
  testLabels: idxBytes([TEST_COUNT], patternLabels(TEST_COUNT)),
};
type FileKey = keyof typeof files;
const KEYS = Object.keys(files) as FileKey[];

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'bnlab-mnist-files-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A new folder under root holding each file as `how(key)` says: plain, .gz, gzip bytes under the plain name, or absent. */
function makeDataDir(name: string, how: (key: FileKey) => 'plain' | 'gz' | 'gz-as-plain' | 'absent'): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const key of KEYS) {
    const path = join(dir, MNIST_FILE_NAMES[key]);
    const layout = how(key);
    switch (layout) {
      case 'plain':
        writeFileSync(path, files[key]);
        break;
      case 'gz':
        writeFileSync(`${path}.gz`, gzipSync(files[key], { level: 1 }));
        break;
      case 'gz-as-plain':
        writeFileSync(path, gzipSync(files[key], { level: 1 }));
        break;
      case 'absent':
        break;
      default:
        layout satisfies never;
    }
  }
  return dir;
}

async function assertLoadFails(dataDir: string, expectedMessage: string | RegExp): Promise<void> {
  await assert.rejects(loadMnist({ dataDir }), (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    if (typeof expectedMessage === 'string') assert.equal(error.message, expectedMessage);
    else assert.match(error.message, expectedMessage);
    return true;
  });
}

describe('loadMnist with --data-dir', () => {
  test('reads gzipped files (name + .gz) and splits them', async () => {
    const dir = makeDataDir('all-gz', () => 'gz');
    const data = await loadMnist({ dataDir: dir });
    assert.equal(data.source, dir);
    assert.deepEqual([data.train.count, data.validation.count, data.test.count], [3, 5000, TEST_COUNT]);
    // train[0] is training-file image 5000: label (3·5000 + 1) mod 10, pixel j = (7·5000 + j) mod 256.
    assert.equal(data.train.labels[0], (3 * 5000 + 1) % 10);
    assert.equal(data.train.pixels[10], (7 * 5000 + 10) % 256);
    assert.equal(data.test.labels[TEST_COUNT - 1], (3 * (TEST_COUNT - 1) + 1) % 10);
  });

  test('reads a mix of plain and gzipped files, and a gzip stream under the plain name', async () => {
    const layouts = { trainImages: 'gz-as-plain', trainLabels: 'plain', testImages: 'gz', testLabels: 'plain' } as const;
    const data = await loadMnist({ dataDir: makeDataDir('mixed', (key) => layouts[key]) });
    assert.deepEqual(Array.from(data.validation.labels.subarray(0, 3)), [1, 4, 7]);
    assert.equal(data.validation.pixels[784 + 3], 7 + 3); // image 1, pixel 3
  });

  test('a missing file names its path (the first missing one in the usual order) and the four files the folder must hold', async () => {
    const dir = makeDataDir('only-test-images', (key) => (key === 'testImages' ? 'gz' : 'absent'));
    await assertLoadFails(
      dir,
      `${join(dir, 'train-images-idx3-ubyte')} not found: --data-dir must hold the four MNIST IDX files ` +
        '(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each plain or gzipped (.gz)',
    );
  });

  test('a folder that does not exist is named', async () => {
    const dir = join(root, 'no-such-folder');
    await assertLoadFails(dir, new RegExp(`^--data-dir ${dir} does not exist`));
  });

  test('a damaged gzip file is named', async () => {
    const dir = makeDataDir('bad-gz', () => 'gz');
    const damaged = gzipSync(files.testLabels).subarray(0, 12); // header intact, stream cut short
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), damaged);
    await assertLoadFails(dir, new RegExp(`^${join(dir, 't10k-labels-idx1-ubyte.gz')} is not a readable gzip file`));
  });

  test('a label file with too few labels is named by the split check', async () => {
    const dir = makeDataDir('short-labels', (key) => (key === 'testLabels' ? 'absent' : 'plain'));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([TEST_COUNT - 1], patternLabels(TEST_COUNT - 1)));
    await assertLoadFails(dir, /t10k-images-idx3-ubyte holds 4 images but .*t10k-labels-idx1-ubyte holds 3 labels/);
  });

  test('a gzipped file that inflates past what its IDX header announces is refused there, not decompressed whole', async () => {
    const dir = makeDataDir('bomb', (key) => (key === 'testLabels' ? 'absent' : 'plain'));
    const header = idxBytes([TEST_COUNT], patternLabels(TEST_COUNT));
    const bomb = Buffer.concat([header, Buffer.alloc(64 * 1024 * 1024)]); // 64 MiB of zeros gzip to ~64 KB
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(bomb));
    await assertLoadFails(dir, new RegExp(`^${join(dir, 't10k-labels-idx1-ubyte.gz')} decompresses to more bytes than its IDX header announces \\(12\\)`));
  });

  test('a gzipped header that announces more than any MNIST-layout file is refused before its data is inflated', async () => {
    const dir = makeDataDir('huge-header', (key) => (key === 'trainImages' ? 'absent' : 'plain'));
    const header = Buffer.from([0, 0, 8, 3, 0, 0x1e, 0x84, 0x80, 0, 0, 0, 28, 0, 0, 0, 28]); // [2,000,000, 28, 28]: 1.57 GB
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(Buffer.concat([header, Buffer.alloc(1024)])));
    await assertLoadFails(dir, /train-images-idx3-ubyte\.gz announces 1,568 MB of IDX data, larger than any MNIST-layout file/);
  });

  test('a folder in place of a file, or a test set without images, is refused with its name', async () => {
    const folder = makeDataDir('folder-in-place', (key) => (key === 'testLabels' ? 'absent' : 'plain'));
    mkdirSync(join(folder, 't10k-labels-idx1-ubyte'));
    await assertLoadFails(folder, new RegExp(`^${join(folder, 't10k-labels-idx1-ubyte')} is not a regular file`));

    const empty = makeDataDir('no-test-images', (key) => (key.startsWith('test') ? 'absent' : 'plain'));
    writeFileSync(join(empty, 't10k-images-idx3-ubyte'), idxBytes([0, 28, 28], new Uint8Array(0)));
    writeFileSync(join(empty, 't10k-labels-idx1-ubyte'), idxBytes([0], new Uint8Array(0)));
    await assertLoadFails(empty, /t10k-images-idx3-ubyte holds no images: an accuracy on no test images means nothing/);
  });
});
