import { InvalidArgumentError, type Command } from 'commander';
import type { ListSessionsRequest, SessionInfo__Output } from '../../gen';
import { allSessions, contextOf } from '../context';
import { CliError, describeError } from '../exit-codes';
import { humanDuration, msOfNs } from '../human-time';
import { addConnectionOptions } from '../options';
import { table } from '../table';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  filter: Filters;
  /** false with --no-trunc (commander's negated option). */
  trunc: boolean;
}

interface Filters {
  labels: Record<string, string>;
  status?: 'running' | 'exited';
}

/** `--filter label=KEY=VALUE` and `status=running|exited`, as docker ps takes them (repeatable; all must match). */
function filter(value: string, previous: Filters = { labels: {} }): Filters {
  const eq = value.indexOf('=');
  const [key, rest] = eq < 0 ? [value, ''] : [value.slice(0, eq), value.slice(eq + 1)];
  if (key === 'label') {
    const e = rest.indexOf('=');
    if (e <= 0) throw new InvalidArgumentError(`expected label=KEY=VALUE, got "${value}"`);
    return { ...previous, labels: { ...previous.labels, [rest.slice(0, e)]: rest.slice(e + 1) } };
  }
  if (key === 'status' && (rest === 'running' || rest === 'exited')) return { ...previous, status: rest };
  throw new InvalidArgumentError(`expected label=KEY=VALUE or status=running|exited, got "${value}"`);
}

/** docker ps's COMMAND: quoted, cut to 20 characters with "…" unless --no-trunc. */
function commandColumn(command: string[], full: boolean): string {
  const text = command.join(' ');
  return JSON.stringify(full || text.length <= 20 ? text : `${text.slice(0, 19)}…`);
}

function statusColumn(s: SessionInfo__Output, now: number): string {
  if (s.state === 'running') return `Up ${humanDuration(now - msOfNs(s.started_at || s.created_at))}`;
  const code = s.outcome && s.outcome.reason !== 'lost' ? String(s.outcome.exit_code ?? 0) : 'unknown';
  return `Exited (${code}) ${humanDuration(now - msOfNs(s.finished_at))} ago`;
}

export function registerPs(program: Command): void {
  addConnectionOptions(program.command('ps'))
    .description('list sessions as docker ps lists containers: running ones, newest first (-a: finished ones too)')
    .option('-a, --all', 'finished sessions too (while retained)')
    .option('-q, --quiet', 'session ids only')
    .option('-f, --filter <filter>', 'label=KEY=VALUE or status=running|exited (repeatable; all must match)', filter, { labels: {} })
    .option('--no-trunc', 'do not cut ids and commands')
    .action(async (flags: PsFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const state = flags.filter.status === 'exited' ? 'finished' : flags.filter.status === 'running' || !flags.all ? 'running' : '';
      const request: ListSessionsRequest = { state, labels: flags.filter.labels };
      let listed;
      try {
        listed = await allSessions(ctx.control, request);
      } catch (err) {
        throw new CliError(`cannot list sessions: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
      if (listed.unreachable.length) {
        process.stderr.write(`exec-stream: replicas not reached, their sessions are not listed: ${listed.unreachable.join(', ')}\n`);
      }
      const sessions = listed.sessions.sort((a, b) => msOfNs(b.created_at) - msOfNs(a.created_at));
      if (flags.quiet) {
        process.stdout.write(sessions.map((s) => `${s.session_id}\n`).join(''));
        return;
      }
      const now = Date.now();
      const full = !flags.trunc;
      process.stdout.write(
        table(
          ['SESSION', 'CONTAINER', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS'],
          sessions.map((s) => [
            s.session_id ?? '',
            full ? (s.container_id ?? '') : (s.container_id ?? '').slice(0, 12),
            s.mode === 'exec' ? `(exec ${(s.exec_id ?? '').slice(0, 12)})` : (s.image ?? ''),
            commandColumn(s.command ?? [], full),
            `${humanDuration(now - msOfNs(s.created_at))} ago`,
            statusColumn(s, now),
          ]),
        ),
      );
    });
}
