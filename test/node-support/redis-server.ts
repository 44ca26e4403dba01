/**
 * @file A real Redis for the queue tests: Debian's redis-server on 127.0.0.1, on a free port,
 * with nothing written to disk; started per test file and stopped after it (also when the
 * test process ends some other way, so no server outlives the tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's redis-server from PATH (.ci/run installs it); BNLAB_REDIS_SERVER names another. */
export const REDIS_SERVER = process.env.BNLAB_REDIS_SERVER ?? 'redis-server';

export interface TestRedis {
  url: string;
  port: number;
  /** The server process's id (a test may kill it to see a worker lose its Redis). */
  pid: number;
  stop(): Promise<void>;
}

/** A TCP port no one listens on right now (another process may take it before we do: callers retry). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** True when a PING on 127.0.0.1:port gets an answer within `timeoutMs` (+PONG, or -NOAUTH from a server with a password). */
export function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      answer(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

export interface StartRedisOptions {
  /** Clients must give this password (redis-server --requirepass). */
  password?: string;
}

async function startOnce(port: number, dir: string, options: StartRedisOptions): Promise<ChildProcess | null> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  const child = spawn(REDIS_SERVER, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.once('error', () => {
    exited = true;
  });
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && !exited) {
    if (await pingRedis(port)) return child;
    await new Promise((wake) => setTimeout(wake, 25));
  }
  child.kill('SIGKILL');
  return null;
}

/** Starts redis-server and resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'bnlab-redis-'));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = await startOnce(port, dir, options);
    if (child === null) continue; // the port was taken meanwhile, most likely
    const onExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', onExit);
    let stopped: Promise<void> | null = null;
    return {
      url: `redis://${options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`}127.0.0.1:${port}/0`,
      port,
      pid: child.pid!,
      stop: () => {
        stopped ??= (async () => {
          process.off('exit', onExit);
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
            await exited;
            clearTimeout(timer);
          }
          await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`could not start ${REDIS_SERVER} on a free port of 127.0.0.1 (is it installed? apt-get install redis-server)`);
}
