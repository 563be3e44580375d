import { BASE_IMAGE } from '../../support/server';
import type { Prng } from './prng';

/** Ids and references a hostile caller would try: traversal, URL tricks, NUL, control bytes, sizes. */
export const HOSTILE_IDS = [
  '',
  '.',
  '..',
  '/',
  '//',
  'a/../b',
  '../x',
  '../../info',
  '%2e%2e/x',
  '%2F',
  '..%2f..%2finfo',
  'a b',
  '\0',
  'x\0y',
  '?all=1',
  '#frag',
  '\\',
  '\r\n',
  'containers/json',
  'json?filters={}',
  '3',
  'a',
  '☃',
  '\u202e',
  'x'.repeat(129),
  'x'.repeat(4096),
  'x'.repeat(100_000),
  'f'.repeat(64),
  '0'.repeat(12),
  '-1',
  'null',
  'undefined',
  '${HOME}',
  '$(id)',
  '`id`',
  "'",
  '"',
];

export const HOSTILE_IMAGES = [
  'a/../b',
  '../x',
  '/',
  '.',
  'busybox/../../images',
  'x'.repeat(600),
  'UPPER/case',
  'img@sha256:zz',
  'localhost:5000/../a',
  'exec-stream/no-such-image:v9',
  'a b',
  '\0',
  ':tag',
  '@',
  'a:b:c',
  '%2e%2e',
  'img?x=1',
  'img#1',
];

export const HOSTILE_SIGNALS = [
  '',
  'KILL',
  'SIGKILL',
  'TERM',
  '9',
  '15',
  '0',
  '-1',
  '65',
  '99999999999',
  'SIGFOO',
  'kill',
  'SIG',
  '1.5',
  ' 9',
  '9 ',
  '\0',
  '../x',
  'x'.repeat(100_000),
  'x'.repeat(129),
  'SIGRTMIN+3',
  'HUP',
  'USR1',
  'STOP',
  'CONT',
];

/** Names that are JavaScript object keys: as env names, labels, filters, token names they are names like any other. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'prototype',
];

/** Start.user values: Docker's uid range ends at 2147483647 (`-u 4294967295` was UNAVAILABLE), names the image lacks. */
export const HOSTILE_USERS = [
  '4294967295',
  '2147483648',
  '2147483647',
  '0:4294967296',
  '99999999999999999999',
  'nosuchuser',
  'u'.repeat(64),
  'root',
  '0:0',
  '__proto__',
];

/** Timeouts past Node's 2^31 - 1 ms timer limit (which once fired at once) and the largest accepted. */
export const LONG_MS = [String(2 ** 31 - 1), String(2 ** 31), String(2 ** 32), String(600 * 3_600_000), String(Number.MAX_SAFE_INTEGER), '9007199254740992'];

export const REPLAY_NUMBERS = ['0', '1', '2', '1000', '4294967296', '9007199254740993', '9223372036854775808', '18446744073709551615'];

const ALPHABET = 'abcdef0123456789/.%\\ \0\t\n?#:@=-_☃';

/** A random string: a hostile classic, or random characters of a random (occasionally huge) length. */
export function hostileString(rng: Prng, classics: readonly string[] = HOSTILE_IDS): string {
  if (rng.bool(0.5)) return rng.pick(classics);
  const len = rng.bool(0.05) ? 1000 + rng.int(200_000) : rng.int(300);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[rng.int(ALPHABET.length)];
  return s;
}

/** Fields of a fuzzed Start: a random mix of modes, each field present or hostile at random. */
export function fuzzedStart(rng: Prng, known: { sessionIds: string[]; containerIds: string[] }): Record<string, unknown> {
  const start: Record<string, unknown> = {};
  const maybe = (p: number, f: () => unknown, key: string) => {
    if (rng.bool(p)) start[key] = f();
  };
  maybe(0.4, () => (rng.bool(0.2) && known.containerIds.length ? rng.pick(known.containerIds).slice(0, 1 + rng.int(64)) : hostileString(rng)), 'container_id');
  maybe(0.2, () => hostileString(rng), 'exec_id');
  maybe(
    0.4,
    () => Array.from({ length: rng.bool(0.02) ? 1025 : rng.int(5) }, () => (rng.bool(0.6) ? rng.pick(['true', 'sh', 'echo', '']) : hostileString(rng))),
    'command',
  );
  const name = () => (rng.bool(0.3) ? rng.pick(PROTOTYPE_KEYS) : hostileString(rng));
  maybe(0.2, () => Object.fromEntries(Array.from({ length: rng.int(4) }, () => [name(), hostileString(rng)])), 'env');
  maybe(0.15, () => Object.fromEntries(Array.from({ length: rng.int(4) }, () => [name(), rng.bool(0.5) ? 'v' : hostileString(rng)])), 'labels');
  maybe(0.1, () => rng.pick(HOSTILE_USERS), 'user');
  maybe(0.1, () => rng.pick(LONG_MS), 'timeout_ms');
  maybe(0.1, () => rng.pick(LONG_MS), 'idle_timeout_ms');
  maybe(0.2, () => (rng.bool(0.3) ? '/' + 'd'.repeat(256) : hostileString(rng)), 'working_dir');
  maybe(0.2, () => rng.bool(), 'tty');
  maybe(0.4, () => (rng.bool(0.3) && known.sessionIds.length ? rng.pick(known.sessionIds).slice(0, 1 + rng.int(40)) : hostileString(rng)), 'session_id');
  maybe(0.3, () => rng.pick(REPLAY_NUMBERS), 'replay_from_sequence');
  maybe(0.2, () => hostileString(rng), 'client_id');
  // A valid image now and then (with a short command) so that runs really start among the noise.
  maybe(0.4, () => (rng.bool(0.03) ? BASE_IMAGE : hostileString(rng, HOSTILE_IMAGES)), 'image');
  maybe(0.3, () => rng.bool(), 'sequenced');
  maybe(0.2, () => rng.bool(), 'open_stdin');
  if (start.image === BASE_IMAGE) start.command = ['true'];
  return start;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** An id as docs/PROTOCOL.md states it (after trimming: an empty one is absent). */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Why a fuzzed Start must be refused, from docs/PROTOCOL.md's limits on requests alone (written out
 * here, not imported: a change to the service must show), or undefined when it may be legitimate. Only
 * what the limits make certain counts: a Start this finds nothing in may still be refused for other
 * reasons (mixed modes, an unknown id), but one it names must never be accepted (OK or Ready).
 */
export function mustRefuse(start: Record<string, unknown>): string | undefined {
  const str = (k: string) => (typeof start[k] === 'string' ? start[k] : undefined);
  for (const k of ['container_id', 'exec_id', 'session_id']) {
    const id = str(k)?.trim();
    if (id && (bytes(id) > 128 || !ID.test(id))) return `${k} is not an id`;
  }
  const client = str('client_id');
  if (client !== undefined && bytes(client) > 128) return 'client_id over 128 bytes';
  const command = start.command as string[] | undefined;
  if (command?.length) {
    if (command.length > 1024) return 'command over 1024 arguments';
    if (command[0] === '') return 'command with an empty program name';
    if (command.some((a) => a.includes('\0') || bytes(a) > 64 * 1024)) return 'command argument with NUL or over 64 KiB';
    if (command.reduce((n, a) => n + bytes(a), 0) > 256 * 1024) return 'command over 256 KiB';
  }
  const env = start.env as Record<string, string> | undefined;
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) || bytes(name) > 256) return `env name ${JSON.stringify(name.slice(0, 20))}`;
    if (value.includes('\0') || bytes(value) > 64 * 1024) return 'env value with NUL or over 64 KiB';
  }
  const dir = str('working_dir');
  if (dir) {
    if (!dir.startsWith('/') || dir.includes('\0') || bytes(dir) > 4096) return 'working_dir not absolute, with NUL or over 4096 bytes';
    if (dir.split('/').some((c) => bytes(c) > 255)) return 'working_dir component over 255 bytes';
  }
  const image = str('image')?.trim();
  if (image) {
    if (bytes(image) > 512) return 'image over 512 bytes';
    // Characters no reference in Docker's grammar has, and shapes it never takes.
    if (/[^A-Za-z0-9._:/@+-]/.test(image) || /^[/:@.]|\/$|\/\/|(^|\/)\.\.?(\/|:|@|$)/.test(image)) return 'image not a reference';
  }
  return undefined;
}

/** Every string a request carries (fields, map keys and values, list items), as the client sent them. */
export function stringsOf(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, into);
  else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) {
      into.push(k);
      stringsOf(v, into);
    }
  }
  return into;
}

/**
 * The first of `values` that a status message quotes more of than 33 characters (as sent or JSON-escaped),
 * or undefined: docs/PROTOCOL.md promises at most 32 characters of a client's value in a message.
 */
export function quotedInFull(details: string, values: readonly string[]): string | undefined {
  for (const v of values) {
    for (let at = 0; at + 33 <= v.length; at += Math.max(1, Math.floor((v.length - 33) / 8))) {
      const w = v.slice(at, at + 33);
      if (details.includes(w) || details.includes(JSON.stringify(w).slice(1, -1))) return v;
    }
  }
  return undefined;
}
