/**
 * @file Opening the Redis connection a queue coordinator or worker runs on, so that a Redis
 * that is not there is one line within seconds, not a hang, a retry loop or a stack trace. A
 * throwaway probe connects once (no reconnects) and sends PING under a deadline; only then is
 * the long-lived client made, which does reconnect (a Redis restarted mid-sweep is survived).
 * BullMQ is handed ioredis clients rather than options: its ESM build cannot load ioredis itself.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { describeRedisAddress, parseRedisUrl, type RedisAddress } from './redis-url.js';

const CONNECT_TIMEOUT_MS_DEFAULT = 3_000;

/** Redis did not answer (or refused us): the message names the redacted address and what to do. */
export class QueueUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueUnreachableError';
  }
}

export interface RedisConnection {
  client: Redis;
  address: RedisAddress;
  /** The address as it may be printed (password as ***). */
  shown: string;
}

export interface OpenRedisOptions {
  /**
   * `worker`: commands wait for a reconnect however long it takes (BullMQ requires
   * maxRetriesPerRequest null for a Worker's connection); `queue`: a command fails after a few
   * reconnects, so a coordinator whose Redis went away says so instead of waiting forever.
   */
  role: 'queue' | 'worker';
  connectTimeoutMs?: number;
}

/** Reconnect after 0.2 s, 0.4 s, … up to every 5 s: a restarted Redis is found again soon, a gone one costs little. */
function reconnectDelay(times: number): number {
  return Math.min(times * 200, 5_000);
}

function baseOptions(address: RedisAddress): RedisOptions {
  return {
    host: address.host,
    port: address.port,
    db: address.db,
    ...(address.username !== undefined ? { username: address.username } : {}),
    ...(address.password !== undefined ? { password: address.password } : {}),
  };
}

/** What a failed probe means to the user, in one line. */
function explain(error: unknown, shown: string, timeoutMs: number): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string } | null)?.code;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message)) {
    return `Redis at ${shown} refused the login (${message.split('\n')[0]!.trim()}): check the user and password in the address`;
  }
  if (/DB index is out of range/i.test(message)) return `Redis at ${shown} has no such database (${message.trim()}): use a smaller /db number`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot reach Redis at ${shown}: the host name does not resolve; check the address`;
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code !== undefined
        ? code
        : /timed? ?out/i.test(message)
          ? `no answer within ${(timeoutMs / 1000).toFixed(0)} s`
          : message.split('\n')[0]!.trim();
  return `cannot reach Redis at ${shown} (${why}): start redis-server there or check the address`;
}

/** Connects once, PINGs, and disconnects; throws QueueUnreachableError within about `timeoutMs`. */
async function probe(address: RedisAddress, shown: string, timeoutMs: number): Promise<void> {
  const client = new Redis({
    ...baseOptions(address),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null, // one attempt: the probe's job is to fail fast
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  let lastError: unknown = null;
  client.on('error', (error: unknown) => {
    lastError = error; // recorded here, or ioredis prints "Unhandled error event" itself
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: undefined })), timeoutMs + 500);
  });
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      deadline,
    ]);
  } catch (error) {
    throw new QueueUnreachableError(explain(lastError ?? error, shown, timeoutMs));
  } finally {
    clearTimeout(timer);
    // A client that ended already (refused, no retries) is left alone: ioredis's disconnect would arm a 2 s timer on its dead socket that keeps the process alive.
    if (client.status !== 'end') client.disconnect();
  }
}

/** Parses `url` (QueueUrlError), checks that Redis answers (QueueUnreachableError), and returns a connected client. */
export async function openRedis(url: string, options: OpenRedisOptions): Promise<RedisConnection> {
  const address = parseRedisUrl(url);
  const shown = describeRedisAddress(address);
  const timeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT;
  await probe(address, shown, timeoutMs);
  const client = new Redis({
    ...baseOptions(address),
    connectTimeout: timeoutMs,
    retryStrategy: reconnectDelay,
    maxRetriesPerRequest: options.role === 'worker' ? null : 3,
  });
  // Connection errors while reconnecting are expected; the caller listens for what it wants to report.
  client.on('error', () => {});
  return { client, address, shown };
}
