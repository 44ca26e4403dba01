/**
 * @file The Redis address a distributed sweep's coordinator and workers share:
 * `redis://[[user]:password@]host:port[/db]` parsed into connection settings with bounds, and
 * the same address with its password replaced by `***`, the only form that may be printed,
 * recorded or reported. `rediss://` (TLS) is refused: nothing here sets up certificates.
 */

export class QueueUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueUrlError';
  }
}

export interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

const MAX_DB = 1_000_000;
const EXAMPLE = 'redis://host:6379/0 or redis://:password@host:6379/0';

/** Parses a redis:// address; every mistake is a QueueUrlError whose one line shows the form to write. */
export function parseRedisUrl(text: string): RedisAddress {
  // Messages show the redacted text: a password must not reach a terminal or a log through an error either.
  const shown = redactRedisUrl(text);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new QueueUrlError(`"${shown}" is not a Redis address: write ${EXAMPLE}`);
  if (scheme === 'rediss')
    throw new QueueUrlError(`"${shown}" asks for TLS (rediss://), which bnlab does not set up: use redis:// on a trusted network or through an SSH tunnel`);
  if (scheme !== 'redis') throw new QueueUrlError(`"${shown}" is a ${scheme}:// address, not a Redis one: write ${EXAMPLE}`);
  // Checked before URL parsing, which refuses a port above 65535 without saying so.
  const writtenPort = /:(\d+)(?:\/[^@]*)?$/.exec(text)?.[1];
  if (writtenPort !== undefined && (Number(writtenPort) < 1 || Number(writtenPort) > 65535)) {
    throw new QueueUrlError(`"${shown}" has port ${writtenPort}: a port is a whole number from 1 to 65535`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const hint = credentialsOf(text) === '' ? '' : ' (in a user or password, write / @ : % and other special characters as %XX, e.g. %2F for /)';
    throw new QueueUrlError(`"${shown}" is not a valid address: write ${EXAMPLE}${hint}`);
  }
  if (url.search !== '' || url.hash !== '') throw new QueueUrlError(`"${shown}" has a ?query or #fragment, which bnlab does not read: write ${EXAMPLE}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 address without its brackets, as sockets take it
  if (host === '') throw new QueueUrlError(`"${shown}" names no host: write ${EXAMPLE}`);
  // A URL drops the default port of known schemes only; for redis:// an empty port means none was written.
  if (url.port === '') throw new QueueUrlError(`"${shown}" names no port: write the port after the host, e.g. redis://${url.host}:6379/0`);
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new QueueUrlError(`"${shown}" has port ${url.port}: a port is a whole number from 1 to 65535`);
  const path = url.pathname.replace(/^\//, '');
  let db = 0;
  if (path !== '') {
    if (!/^\d+$/.test(path)) throw new QueueUrlError(`"${shown}" ends in "/${path}": after the port comes the database number, e.g. /0, or nothing`);
    db = Number(path);
    if (db > MAX_DB)
      throw new QueueUrlError(`"${shown}" has database ${path}: a database number is a whole number from 0 to ${MAX_DB.toLocaleString('en-US')}`);
  }
  const address: RedisAddress = { host, port, db };
  const username = decoded(url.username, shown);
  const password = decoded(url.password, shown);
  if (username !== '') address.username = username;
  if (password !== '') address.password = password;
  else if (username !== '' && !credentialsOf(text).includes(':')) {
    // redis://secret@host is ambiguous (a user without a password, or a password without ":"): ask for the explicit form.
    throw new QueueUrlError(`"${shown}" has "…@" without a ":": write redis://:password@host:port for a password, or redis://user:password@host:port`);
  }
  return address;
}

function decoded(part: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new QueueUrlError(`"${shown}" has a malformed %-escape in its user or password: write each special character as %XX (e.g. %40 for @)`);
  }
}

/** What stands between "scheme://" and the last "@" ('' without one). */
function credentialsOf(text: string): string {
  const rest = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const at = rest.lastIndexOf('@');
  return at < 0 ? '' : rest.slice(0, at);
}

/**
 * `text` with the password (or whatever stands between "user:" and "@") replaced by `***`.
 * Works on text that is not a valid URL too, since it is what error messages show.
 */
export function redactRedisUrl(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (!scheme) return text.includes('@') ? `***@${text.slice(text.lastIndexOf('@') + 1)}` : text;
  const rest = text.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return text;
  const credentials = rest.slice(0, at);
  const colon = credentials.indexOf(':');
  // Without a colon the whole credentials part may be a password (redis://secret@host): hide all of it.
  const shownCredentials = colon < 0 ? '***' : `${credentials.slice(0, colon)}:***`;
  return `${scheme[0]}${shownCredentials}${rest.slice(at)}`;
}

/** The address as printed: redis://host:port/db, with `***` for a password and the user's name kept. */
export function describeRedisAddress(address: RedisAddress): string {
  const credentials = address.password !== undefined ? `${address.username ?? ''}:***@` : address.username !== undefined ? `${address.username}@` : '';
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `redis://${credentials}${host}:${address.port}/${address.db}`;
}
