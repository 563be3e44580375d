import { InvalidArgumentError, type Command } from 'commander';
import { GRPCConnectionManager, type ClientTlsOptions } from '../grpc-connection-manager';
import { CliError } from './exit-codes';

export const DEFAULT_ADDR = '127.0.0.1:50051';

export interface ConnectionFlags {
  addr?: string;
  token?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** --addr, --token and the TLS flags; each falls back to its environment variable. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--addr <host:port>', `service address (env EXEC_ADDR, default ${DEFAULT_ADDR})`)
    .option('--token <token>', 'auth token (env EXEC_AUTH_TOKEN)')
    .option('--tls', 'connect over TLS, trusting the system roots unless --tls-ca (env EXEC_TLS=1)')
    .option('--tls-ca <file>', 'CA that signed the service certificate; implies --tls (env EXEC_TLS_CA)')
    .option('--tls-cert <file>', 'client certificate for mTLS; implies --tls (env EXEC_TLS_CLIENT_CERT)')
    .option('--tls-key <file>', 'key of the client certificate (env EXEC_TLS_CLIENT_KEY)');
}

/** The connection the flags (or, for each flag not given, the environment) describe. */
export function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): GRPCConnectionManager {
  const ca = flags.tlsCa ?? env.EXEC_TLS_CA;
  const cert = flags.tlsCert ?? env.EXEC_TLS_CLIENT_CERT;
  const key = flags.tlsKey ?? env.EXEC_TLS_CLIENT_KEY;
  if (!cert !== !key) throw new CliError('--tls-cert and --tls-key go together');
  const useTls = !!(flags.tls || env.EXEC_TLS === '1' || ca || cert);
  const tls: ClientTlsOptions | undefined = useTls ? { ca: ca || undefined, cert: cert || undefined, key: key || undefined } : undefined;
  return new GRPCConnectionManager({ address: flags.addr || env.EXEC_ADDR || DEFAULT_ADDR, token: flags.token || env.EXEC_AUTH_TOKEN || undefined, tls });
}

/** Repeatable K=V flags into a record. */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** An env flag: K=V, or K alone to pass the local value of K (as docker does). */
export function envVar(value: string, previous: Record<string, string> = {}): Record<string, string> {
  if (value.includes('=')) return keyValue(value, previous);
  // Only the variable itself: process.env answers toString, constructor … with Object's members.
  return Object.hasOwn(process.env, value) ? { ...previous, [value]: process.env[value] as string } : previous;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes, or a number with docker's units b, k, m, g (powers of 1024; `512m`, `1.5g`). */
export function byteSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a size such as 536870912, 512m or 1g, got "${value}"`);
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new InvalidArgumentError(`size out of range: "${value}"`);
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration such as 30s, 1m30s, 500ms, 2h; a bare number is seconds. */
export function duration(value: string): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return positive(Number(v) * 1000, value);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v)) throw new InvalidArgumentError(`expected a duration such as 30s, 5m, 1m30s or 500ms, got "${value}"`);
  let ms = 0;
  for (const [, n, , unit] of v.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * DURATION_UNITS[unit];
  return positive(ms, value);
}

function positive(ms: number, value: string): number {
  const r = Math.round(ms);
  if (!Number.isSafeInteger(r) || r <= 0) throw new InvalidArgumentError(`duration out of range: "${value}"`);
  return r;
}

/** A non-negative integer flag (e.g. --from, --since-id, --pids-limit). */
export function integer(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return Number(value);
}

/** A positive number (e.g. --cpus 1.5). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

/** A value from a fixed set. */
export function oneOf<T extends string>(...allowed: T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
}
