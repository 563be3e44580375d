import type { Command } from 'commander';
import type { ControlClient } from '../../control-client';
import type { ExecClient } from '../../exec-client';
import { Code, type ExecError } from '../../exec-error';
import type { SessionInfo__Output } from '../../gen';
import { ResumingSession } from '../../resuming-session';
import { contextOf, sessionOf } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions, integer } from '../options';

/**
 * The exit code of a session's process, once it has ended: an attach from the chunk after the newest
 * one listed (nothing is replayed), read to its end; at once for a finished session.
 */
export function exitOf(client: ExecClient, s: SessionInfo__Output): Promise<number> {
  const fromSequence = Number(s.last_sequence ?? 0) + 1;
  return ResumingSession.attach(client, { sessionId: s.session_id ?? '', fromSequence }).wait();
}

/** A signal to the session's process (its exec's, for an exec session); one that has just ended is fine. */
async function signal(control: ControlClient, s: SessionInfo__Output, name: string): Promise<void> {
  try {
    await control.signal(s.container_id ?? '', name, s.exec_id || undefined);
  } catch (err) {
    const e = err as ExecError;
    if (e.reason === 'CONTAINER_PAUSED') {
      await control.resume(s.container_id ?? ''); // docker stop stops a paused container too
      return signal(control, s, name);
    }
    if (e.code !== Code.FAILED_PRECONDITION && e.code !== Code.NOT_FOUND) throw err;
  }
}

export function registerStop(program: Command): void {
  addConnectionOptions(program.command('stop'))
    .description("stop a session's process as docker stop does: SIGTERM, then SIGKILL after the grace; prints each target")
    .argument('<session|container...>', 'session ids, or container ids / unique prefixes')
    .option('-t, --time <seconds>', 'seconds to wait for it to end after SIGTERM, before SIGKILL', integer, 10)
    .action(async (targets: string[], flags: { time: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      try {
        for (const target of targets) {
          let s: SessionInfo__Output;
          try {
            s = await sessionOf(ctx.control, target);
            if (s.state === 'running') {
              const ended = exitOf(ctx.client, s);
              ended.catch(() => undefined);
              await signal(ctx.control, s, 'SIGTERM');
              let timer: NodeJS.Timeout | undefined;
              const grace = new Promise<'grace'>((resolve) => (timer = setTimeout(() => resolve('grace'), flags.time * 1000)));
              const first = await Promise.race([
                ended.then(
                  () => 'ended' as const,
                  () => 'ended' as const,
                ),
                grace,
              ]);
              clearTimeout(timer);
              if (first === 'grace') await signal(ctx.control, s, 'SIGKILL');
              await ended.catch(() => undefined); // ended, one way or another: its outcome is the session's to tell
            }
          } catch (err) {
            throw new CliError(`cannot stop ${target}: ${describeError(err)}`);
          }
          process.stdout.write(`${target}\n`);
        }
      } finally {
        ctx.connection.close();
      }
    });
}

export function registerWait(program: Command): void {
  addConnectionOptions(program.command('wait'))
    .description("wait for sessions' processes to end and print each exit code, as docker wait")
    .argument('<session|container...>', 'session ids, or container ids / unique prefixes')
    .action(async (targets: string[], _flags: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      try {
        for (const target of targets) {
          let code: number;
          try {
            code = await exitOf(ctx.client, await sessionOf(ctx.control, target));
          } catch (err) {
            throw new CliError(`cannot wait for ${target}: ${describeError(err)}`);
          }
          process.stdout.write(`${code}\n`);
        }
      } finally {
        ctx.connection.close();
      }
    });
}
