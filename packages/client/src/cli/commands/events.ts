import type { Command } from 'commander';
import type { LifecycleEventInfo } from '../../control-client';
import { contextOf, isoFromNs, resolveContainer, toJson } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions, integer } from '../options';

interface EventsFlags {
  container?: string;
  sinceId?: number;
  json?: boolean;
}

export function registerEvents(program: Command): void {
  addConnectionOptions(program.command('events'))
    .description('print container lifecycle events as they happen, until interrupted (exit 0) or the service ends the stream')
    .option('--container <id>', 'only events of this container (or of the container of this session id)')
    .option('--since-id <n>', 'first the held events after this id, then live ones (0 = all held)', integer)
    .option('--json', 'one JSON object per line (64-bit values as strings)')
    .action(async (flags: EventsFlags, cmd: Command) => {
      const containerId = flags.container && (await resolveContainer(cmd, flags.container));
      const ctx = contextOf(cmd);
      const sub = ctx.control.lifecycle({ containerId, resumeAfterId: flags.sinceId });
      const stop = () => {
        sub.close();
        ctx.connection.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        for (;;) {
          const e = await sub.next(60_000);
          if (e) process.stdout.write(flags.json ? `${toJson(e)}\n` : line(e));
          else if (sub.ended) break;
        }
      } catch (err) {
        throw new CliError(`the event stream failed: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
    });
}

function line(e: LifecycleEventInfo): string {
  const parts = [isoFromNs(e.timestampNs), `#${e.id}`, e.type, `container=${e.containerId.slice(0, 12)}`, `status=${e.status}`];
  if (e.sessionId) parts.push(`session=${e.sessionId}`);
  if (e.execId) parts.push(`exec=${e.execId.slice(0, 12)}`);
  if (e.type === 'exited') parts.push(`exit=${e.exitCode}`);
  if (e.signal) parts.push(`signal=${e.signal}`);
  if (e.dropped) parts.push(`dropped=${e.dropped}`);
  if (e.message) parts.push(`message=${JSON.stringify(e.message)}`);
  return `${parts.join(' ')}\n`;
}
