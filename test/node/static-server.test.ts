/**
 * @file The static server behind `bnlab serve`: the page's files with the content types a
 * browser needs (application/wasm for streaming compilation, .gz as plain bytes), no listings,
 * and no request path, however spelled, reading a file outside the served folder. Requests go
 * out with node:http as raw paths, since fetch and URL would normalize the `..` away.
 */

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { requestPath, ServeError, type StaticServer, startStaticServer } from '../../src/node/static-server.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request with `path` sent exactly as written. */
function get(server: StaticServer, path: string, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: server.port, method, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const SECRET = 'the secret next to the page must never be served';
const scratch = mkdtempSync(join(tmpdir(), 'bnlab-static-'));
const root = join(scratch, 'web');
const gzipped = gzipSync(Buffer.from('IDX bytes'));
const wasm = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // an empty module
let server: StaticServer;

before(async () => {
  mkdirSync(join(root, 'mnist'), { recursive: true });
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>bnlab lab</title>');
  writeFileSync(join(root, 'main.js'), 'console.log(1);');
  writeFileSync(join(root, 'kernels.wasm'), wasm);
  writeFileSync(join(root, 'mnist', 'labels.gz'), gzipped);
  writeFileSync(join(scratch, 'secret.txt'), SECRET);
  symlinkSync(join(scratch, 'secret.txt'), join(root, 'escape.txt'));
  symlinkSync(scratch, join(root, 'escape-dir'));
  symlinkSync(join(root, 'main.js'), join(root, 'alias.js')); // a link that stays inside is fine
  server = await startStaticServer({ root, host: '127.0.0.1', port: 0 });
});

after(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('static server: what it serves', () => {
  test('/ is index.html, with the headers every response carries', async () => {
    const response = await get(server, '/');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(response.body.toString(), /bnlab lab/);
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(response.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.equal(server.url, `http://127.0.0.1:${server.port}/`);
  });

  test('a query string is ignored; .js is text/javascript; a symlink inside the folder is followed', async () => {
    for (const path of ['/main.js?v=2', '/alias.js']) {
      const response = await get(server, path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers['content-type'], 'text/javascript');
      assert.equal(response.body.toString(), 'console.log(1);');
    }
  });

  test('.wasm is application/wasm, byte for byte', async () => {
    const response = await get(server, '/kernels.wasm');
    assert.equal(response.headers['content-type'], 'application/wasm');
    assert.deepEqual(response.body, wasm);
  });

  test('.gz is application/octet-stream without Content-Encoding: the page gunzips it', async () => {
    const response = await get(server, '/mnist/labels.gz');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/octet-stream');
    assert.equal(response.headers['content-encoding'], undefined);
    assert.deepEqual(response.body, gzipped);
  });

  test('HEAD gives the length without a body; other methods get 405', async () => {
    const head = await get(server, '/kernels.wasm', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(wasm.length));
    assert.equal(head.body.length, 0);
    const post = await get(server, '/index.html', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  test('unknown paths and folders get 404 with a short text body, never a listing', async () => {
    for (const path of ['/missing.js', '/mnist/', '/mnist', '/a/b/']) {
      const response = await get(server, path);
      assert.equal(response.status, 404, path);
      assert.equal(response.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(response.body.toString(), 'not found\n', path);
    }
  });
});

describe('static server: nothing outside the folder', () => {
  const climbs = [
    '/../secret.txt',
    '/../package.json',
    '/%2e%2e/secret.txt',
    '/%2e%2e/package.json',
    '/a/%2e%2e/%2e%2e/secret.txt',
    '/a/b/../../../secret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/%00',
    '/index.html%00.js',
    '/%E0%A4%A',
    '/%',
    '/escape.txt',
    '/escape-dir/secret.txt',
    'secret.txt',
    '//../secret.txt',
  ];
  for (const path of climbs) {
    test(`${path} is refused`, async () => {
      const response = await get(server, path);
      assert.ok(response.status === 400 || response.status === 404, `${path}: HTTP ${response.status}`);
      assert.ok(!response.body.toString().includes(SECRET), `${path} served the secret`);
    });
  }

  test('requestPath refuses every encoded spelling of a climb and keeps ordinary paths', () => {
    assert.equal(requestPath('/mnist/t10k-labels-idx1-ubyte.gz?x=1'), '/mnist/t10k-labels-idx1-ubyte.gz');
    assert.equal(requestPath('/a%20b.html'), '/a b.html');
    for (const path of ['/%2e%2e/x', '/%2E/x', '/..%2fx', '/..%5cx', '/%00', '/%E0%A4%A', 'x', '']) assert.equal(requestPath(path), null, path);
  });
});

describe('static server: start-up errors a user can fix', () => {
  test('a port in use is a ServeError naming the port and --port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await assert.rejects(startStaticServer({ root, host: '127.0.0.1', port }), (error: Error) => {
        assert.ok(error instanceof ServeError);
        assert.equal(error.name, 'ServeError');
        assert.equal(error.message, `port ${port} on 127.0.0.1 is in use: pick another with --port N (or --port 0 for any free port)`);
        return true;
      });
    } finally {
      blocker.close();
    }
  });

  test("a host that is not this machine's is a ServeError naming --host", async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
    await assert.rejects(startStaticServer({ root, host: '192.0.2.1', port: 0 }), /^ServeError: --host 192\.0\.2\.1 is not an address of this machine/);
  });

  test('a missing folder is a ServeError', async () => {
    await assert.rejects(startStaticServer({ root: join(scratch, 'nowhere'), host: '127.0.0.1', port: 0 }), { name: 'ServeError' });
  });
});
