import type { Command } from 'commander';
import { ControlClient } from '../control-client';
import { ExecClient } from '../exec-client';
import { Code, ExecError } from '../exec-error';
import type { SessionInfo__Output } from '../gen';
import type { GRPCConnectionManager } from '../grpc-connection-manager';
import { CliError, describeError } from './exit-codes';
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

/** Every session ListSessions gives for `request` (all pages), and the replicas that could not be asked. */
export async function allSessions(
  control: ControlClient,
  request: Parameters<ControlClient['listSessions']>[0] = {},
): Promise<{ sessions: SessionInfo__Output[]; unreachable: string[] }> {
  const sessions: SessionInfo__Output[] = [];
  const unreachable = new Set<string>();
  for (let token = ''; ;) {
    const page = await control.listSessions({ ...request, page_token: token });
    sessions.push(...(page.sessions ?? []));
    for (const r of page.unreachable_replicas ?? []) unreachable.add(r);
    token = page.next_page_token ?? '';
    if (!token) return { sessions, unreachable: [...unreachable].sort() };
  }
}

/**
 * The session a target names, as `attach` reads it: a session id, else a container id or unique
 * prefix (its run session, else its newest exec). NOT_FOUND when there is none.
 */
export async function sessionOf(control: ControlClient, target: string): Promise<SessionInfo__Output> {
  const t = sessionOrContainer(target);
  const { sessions } = await allSessions(control, 'sessionId' in t ? { session_id: t.sessionId } : { container_id: t.containerId });
  const found = sessions.find((s) => s.mode === 'run') ?? [...sessions].sort((a, b) => (BigInt(b.created_at ?? 0) > BigInt(a.created_at ?? 0) ? 1 : -1))[0];
  if (!found) throw new ExecError(Code.NOT_FOUND, `no session ${'sessionId' in t ? t.sessionId : `of container ${t.containerId}`}`);
  return found;
}

/**
 * The container a target names: a session id is its session's container (and, for an exec session,
 * its exec), anything else a container id or unique prefix, given to the service as it is.
 */
export async function containerOf(control: ControlClient, target: string): Promise<{ containerId: string; execId?: string }> {
  if (!('sessionId' in sessionOrContainer(target))) return { containerId: target };
  const s = await sessionOf(control, target);
  return { containerId: s.container_id ?? '', ...(s.exec_id ? { execId: s.exec_id } : {}) };
}

/** containerOf, over a connection of its own, for a command that opens its own calls later; a container id as it is. */
export async function resolveContainer(cmd: Command, target: string): Promise<string> {
  if (!('sessionId' in sessionOrContainer(target))) return target;
  const ctx = contextOf(cmd);
  try {
    return (await containerOf(ctx.control, target)).containerId;
  } catch (err) {
    throw new CliError(`cannot find the container of ${target}: ${describeError(err)}`);
  } finally {
    ctx.connection.close();
  }
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
