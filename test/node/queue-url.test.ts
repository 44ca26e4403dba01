/**
 * @file The Redis address of a distributed sweep: the forms taken, each mistake refused with one
 * line that shows what to write, and the password never shown (not in a redacted address, not
 * in an error message).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRedisAddress, parseRedisUrl, QueueUrlError, redactRedisUrl } from '../../src/node/queue/redis-url.js';

const SECRET = 's3cr3t-Pw';

test('the forms of a redis:// address parse to host, port, db and credentials', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379/0'), { host: '127.0.0.1', port: 6379, db: 0 });
  assert.deepEqual(parseRedisUrl('redis://queue.lan:6380'), { host: 'queue.lan', port: 6380, db: 0 });
  assert.deepEqual(parseRedisUrl(`redis://:${SECRET}@h:1/5`), { host: 'h', port: 1, db: 5, password: SECRET });
  assert.deepEqual(parseRedisUrl(`redis://ann:${SECRET}@h:65535/1000000`), { host: 'h', port: 65535, db: 1_000_000, username: 'ann', password: SECRET });
  assert.deepEqual(parseRedisUrl('redis://ann:@h:7/'), { host: 'h', port: 7, db: 0, username: 'ann' });
  assert.deepEqual(parseRedisUrl('redis://:p%40ss%3Aword@h:7/2'), { host: 'h', port: 7, db: 2, password: 'p@ss:word' });
  assert.deepEqual(parseRedisUrl('REDIS://[::1]:6379/3'), { host: '::1', port: 6379, db: 3 });
});

test('each mistake is one QueueUrlError line that says what to write', () => {
  const cases: Array<[string, RegExp]> = [
    ['localhost:6379', /not a Redis address: write redis:\/\/host:6379\/0/],
    ['http://h:6379', /http:\/\/ address, not a Redis one/],
    ['rediss://h:6379', /TLS \(rediss:\/\/\).*use redis:\/\//],
    ['redis://h', /names no port: write the port after the host, e\.g\. redis:\/\/h:6379\/0/],
    ['redis://h:0/0', /port 0: a port is a whole number from 1 to 65535/],
    ['redis://h:70000/0', /not a valid address|port 70000/],
    ['redis://h:6379/x', /after the port comes the database number/],
    ['redis://h:6379/1000001', /database 1000001: a database number is a whole number from 0 to 1,000,000/],
    ['redis://h:6379/-1', /after the port comes the database number/],
    ['redis://h:6379/0?db=2', /\?query or #fragment/],
    ['redis://:6379/0', /names no host|not a valid address/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseRedisUrl(text),
      (error: unknown) => {
        assert.ok(error instanceof QueueUrlError, `${text}: ${String(error)}`);
        assert.match(error.message, expected, text);
        assert.ok(!error.message.includes('\n'), `${text}: one line`);
        return true;
      },
    );
  }
});

test('a password never appears: redacted addresses, descriptions and error messages show ***', () => {
  const withSecret = [
    `redis://:${SECRET}@h:6379/0`,
    `redis://ann:${SECRET}@h:6379/0`,
    `redis://${SECRET}@h:6379/0`,
    `rediss://:${SECRET}@h:6379/0`,
    `redis://:${SECRET}@h/0`,
    `redis://:${SECRET}@h:99999/0`,
    `redis://:${SECRET}@h:6379/x`,
    `redis://:${SECRET}%zz@h:6379/0`,
    `redis://:${SECRET}/x@h:6379/0`,
    `:${SECRET}@h:6379`,
  ];
  for (const text of withSecret) {
    assert.ok(!redactRedisUrl(text).includes(SECRET), `redacted: ${redactRedisUrl(text)}`);
    try {
      const address = parseRedisUrl(text);
      assert.ok(!describeRedisAddress(address).includes(SECRET));
    } catch (error) {
      assert.ok(error instanceof QueueUrlError, String(error));
      assert.ok(!error.message.includes(SECRET), `message: ${error.message}`);
    }
  }
  assert.equal(redactRedisUrl(`redis://ann:${SECRET}@h:6379/0`), 'redis://ann:***@h:6379/0');
  assert.equal(redactRedisUrl(`redis://:${SECRET}@h:6379/0`), 'redis://:***@h:6379/0');
  assert.equal(redactRedisUrl('redis://h:6379/0'), 'redis://h:6379/0');
  assert.equal(describeRedisAddress(parseRedisUrl(`redis://:${SECRET}@h:6379`)), 'redis://:***@h:6379/0');
  assert.equal(describeRedisAddress(parseRedisUrl('redis://[::1]:6379/2')), 'redis://[::1]:6379/2');
});
