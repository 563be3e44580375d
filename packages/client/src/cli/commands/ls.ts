import type { Command } from 'commander';
import type { ListSessionsRequest, SessionInfo__Output } from '../../gen';
import { contextOf, isoFromNs, toJson } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions, keyValue, oneOf } from '../options';
import { table } from '../table';

interface LsFlags {
  container?: string;
  state?: 'running' | 'finished';
  label: Record<string, string>;
  json?: boolean;
}

export function registerLs(program: Command): void {
  addConnectionOptions(program.command('ls'))
    .description('list the sessions the service holds (running and retained)')
    .option('--container <id>', 'only sessions of this container')
    .option('--state <state>', 'running or finished', oneOf('running', 'finished'))
    .option('-l, --label <KEY=VALUE>', 'only sessions with this label (repeatable; all must match)', keyValue, {})
    .option('--json', 'a JSON array of SessionInfo (wire field names; 64-bit values as strings)')
    .action(async (flags: LsFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const sessions: SessionInfo__Output[] = [];
      const unreachable = new Set<string>();
      try {
        const request: ListSessionsRequest = { container_id: flags.container ?? '', state: flags.state ?? '', labels: flags.label };
        for (let token = ''; ;) {
          const page = await ctx.control.listSessions({ ...request, page_token: token });
          sessions.push(...(page.sessions ?? []));
          for (const r of page.unreachable_replicas ?? []) unreachable.add(r);
          token = page.next_page_token ?? '';
          if (!token) break;
        }
      } catch (err) {
        throw new CliError(`cannot list sessions: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
      // Not silent: a replica that could not be asked is named (its sessions are missing from the list).
      if (unreachable.size) process.stderr.write(`exec-stream: replicas not reached, their sessions are not listed: ${[...unreachable].sort().join(', ')}\n`);
      if (flags.json) {
        process.stdout.write(`${toJson(sessions)}\n`);
        return;
      }
      process.stdout.write(
        table(
          ['SESSION', 'CONTAINER', 'MODE', 'STATE', 'EXIT', 'CREATED', 'COMMAND'],
          sessions.map((s) => [
            s.session_id ?? '',
            (s.container_id ?? '').slice(0, 12),
            s.mode ?? '',
            s.state ?? '',
            s.outcome ? String(s.outcome.exit_code ?? 0) : '',
            isoFromNs(s.created_at),
            (s.command ?? []).join(' '),
          ]),
        ),
      );
    });
}
