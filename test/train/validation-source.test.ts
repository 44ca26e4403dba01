/**
 * @file The validation pass reads the validation split's bytes from the backend's own memory
 * (placed once, data/resident-pixels.ts) instead of copying them in at each evaluation, and takes
 * each batch's labels as a view, and packs a batch's nonzeros (as training does) for a network
 * whose first layer skips zeros: the accuracy, loss and count of correct answers are the same to
 * the last bit as from the split's own bytes and from float rows with labels in a plain array, on
 * every backend, for a network with BN after some training and at an evaluation batch that does
 * not divide the split.
 */

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { BatchFeeder } from '../../src/data/batch-feeder.js';
import { copyRows, type MnistData, splitExamples } from '../../src/data/mnist.js';
import { residentPixels } from '../../src/data/resident-pixels.js';
import { floatExamples } from '../../src/nn/example-source.js';
import { Sgd } from '../../src/nn/sgd.js';
import { loadMnist } from '../../src/node/mnist-files.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { buildNetwork } from '../../src/train/networks.js';
import { backendsUnderTest } from '../helpers/backends.js';

let data: MnistData;
before(async () => {
  data = await loadMnist();
});

for (const kernels of await backendsUnderTest()) {
  describe(`the validation source [${kernels.name}: ${kernels.variant}]`, () => {
    test('from the resident bytes, the same evaluation as from the split and from float rows with an array of labels, bit for bit', () => {
      const config = resolveTrainConfig({ seed: 4 });
      const net = buildNetwork(kernels, config, true);
      net.sparseInput = true;
      const steps = kernels.name === 'js' ? 20 : 200;
      const feeder = new BatchFeeder(kernels, data.train, config.batchSize, { shuffle: true, seed: 9 });
      const x = net.inputFor(config.batchSize),
        labels = new Uint8Array(config.batchSize),
        sgd = new Sgd(kernels, config.learningRate);
      for (let s = 0; s < steps; s++) {
        feeder.next(x, labels);
        net.trainStep(x, labels, sgd);
      }
      const { validation } = data;
      const floats = new Float32Array(validation.count * validation.width);
      copyRows(validation, 0, validation.count, floats);
      const resident = splitExamples(validation, residentPixels(kernels, validation.pixels));
      let packed = 0;
      const sources = {
        resident: {
          ...resident,
          packRows: (...args: Parameters<typeof resident.packRows>) => {
            packed++;
            resident.packRows(...args);
          },
        },
        split: splitExamples(validation),
        arrayLabels: floatExamples(floats, Array.from(validation.labels), validation.width),
      };
      for (const batchSize of [1000, 768]) {
        const [resident, split, arrayLabels] = [sources.resident, sources.split, sources.arrayLabels].map((source) => net.evaluate(source, batchSize));
        assert.ok(resident!.accuracy > 0.2, `the network learned something (${resident!.accuracy})`);
        assert.deepEqual(resident, split, `batches of ${batchSize}: resident bytes against the split's own`);
        assert.deepEqual(resident, arrayLabels, `batches of ${batchSize}: against float rows and labels in an array`);
        assert.ok(Object.is(resident!.loss, split!.loss));
      }
      assert.equal(packed, 5 + 7, 'the split given as nonzeros, batch by batch; the float rows as floats');
    });

    test('a resident copy of the wrong length is refused', () => {
      assert.throws(() => splitExamples(data.validation, { data: new Uint8Array(5) }), /a split of 3920000 pixel bytes was given 5/);
    });
  });
}
