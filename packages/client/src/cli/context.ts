import type { Command } from 'commander';
import { ControlClient } from '../control-client';
import { ExecClient } from '../exec-client';
import type { GRPCConnectionManager } from '../grpc-connection-manager';
import { connect, type ConnectionFlags } from './options';

/** What a command talks to the service with, from its flags (and the program's) or the environment. */
export interface CommandContext {
  connection: GRPCConnectionManager;
  client: ExecClient;
  control: ControlClient;
}

export function contextOf(cmd: Command): CommandContext {
  const connection = connect(cmd.optsWithGlobals<ConnectionFlags>());
  return { connection, client: new ExecClient(connection), control: new ControlClient(connection) };
}

/**
 * Session ids are `REPLICA.UUID` (or a bare UUID, from before replicas); anything else names a
 * container (an id or a unique prefix: hex, without a dot).
 */
export function sessionOrContainer(target: string): { sessionId: string } | { containerId: string } {
  return /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(target)
    ? { sessionId: target }
    : { containerId: target };
}

/** A Unix-ns timestamp (string or bigint) as ISO 8601; '' for 0 / unset. */
export function isoFromNs(ns: bigint | string | number | undefined | null): string {
  if (ns === undefined || ns === null) return '';
  const n = BigInt(String(ns));
  return n === 0n ? '' : new Date(Number(n / 1_000_000n)).toISOString();
}

/** JSON with bigint as decimal strings (64-bit values of the wire). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
