/**
 * @file The static file server behind `bnlab serve`: GET and HEAD of the files under one folder
 * (the page dist/web/ that npm run build:web writes), nothing else. Every request path is
 * decoded once, refused if it could name anything outside the folder (`..`, backslashes, NUL,
 * bad percent-encoding), and the file's real path (symlinks followed) must still lie inside the
 * folder's real path. No directory listings; .gz files go out as bytes, since the page gunzips
 * MNIST itself with DecompressionStream.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';

/** A server that cannot start for a reason the user can fix (a port in use, a wrong host). */
export class ServeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeError';
  }
}

export interface StaticServerOptions {
  /** The folder to serve; nothing outside it is ever read. */
  root: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface StaticServer {
  /** http://host:port/ with the port actually bound. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm', // WebAssembly.instantiateStreaming insists on it
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.gz': 'application/octet-stream', // no Content-Encoding: the browser must not gunzip it on the way
};

const COMMON_HEADERS = {
  'Cache-Control': 'no-cache', // a rebuilt page shows at the next reload
  'X-Content-Type-Options': 'nosniff',
  // Cross-origin isolation: lets the page use SharedArrayBuffer; it loads nothing from elsewhere.
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = await realpath(options.root).catch(() => null);
  if (root === null || !(await stat(root)).isDirectory()) throw new ServeError(`${options.root} is not a folder that can be served`);
  const server = createServer((request, response) => {
    serveFile(root, request, response).catch(() => {
      if (!response.headersSent) sendText(response, 500, 'internal error');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, options)));
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // a browser's keep-alive connections would hold close() open
      }),
  };
}

function listenError(error: NodeJS.ErrnoException, { host, port }: StaticServerOptions): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new ServeError(`port ${port} on ${host} is in use: pick another with --port N (or --port 0 for any free port)`);
    case 'EACCES':
      return new ServeError(`port ${port} on ${host} needs privileges this user lacks: pick one from 1024 up with --port N (or --port 0 for any free port)`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ServeError(`--host ${host} is not an address of this machine: give one such as 127.0.0.1, ::1 or 0.0.0.0 (every address)`);
    default:
      return error;
  }
}

async function serveFile(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    sendText(response, 405, 'method not allowed: only GET and HEAD');
    return;
  }
  const path = requestPath(request.url ?? '');
  if (path === null) {
    sendText(response, 400, 'bad request path');
    return;
  }
  const file = await fileInside(root, path === '/' ? '/index.html' : path);
  if (file === null) {
    sendText(response, 404, 'not found');
    return;
  }
  response.writeHead(200, {
    ...COMMON_HEADERS,
    'Content-Type': CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream',
    'Content-Length': file.size,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file.path)
    .on('error', () => response.destroy())
    .pipe(response);
}

/**
 * The decoded path of a request target, or null when it must be refused: not absolute, bad
 * percent-encoding, a NUL or a backslash (a separator on Windows), or a `.`/`..` segment, encoded
 * or not. The query string is ignored.
 */
export function requestPath(target: string): string | null {
  const raw = target.split(/[?#]/, 1)[0]!;
  if (!raw.startsWith('/')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((segment) => segment === '.' || segment === '..')) return null;
  return decoded;
}

/**
 * The regular file `path` names under `root` (a real path), or null: missing, a folder (no
 * listings), or a symlink whose target lies outside root. Checked on the real path, after every
 * symlink, so no spelling of the path can escape.
 */
async function fileInside(root: string, path: string): Promise<{ path: string; size: number } | null> {
  const real = await realpath(join(root, path)).catch(() => null);
  if (real === null || !real.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  const info = await stat(real).catch(() => null);
  return info?.isFile() ? { path: real, size: info.size } : null;
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${text}\n`);
}
