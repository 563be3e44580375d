import type { Command } from 'commander';
import { ResumingSession } from '../../resuming-session';
import { clientId } from '../client-id';
import { contextOf, sessionOrContainer } from '../context';
import { CliError, describeError } from '../exit-codes';
import { follow } from '../follow';
import { addConnectionOptions, integer } from '../options';
import { detachedMessage } from './run';

interface AttachFlags {
  from?: number;
  interactive?: boolean;
  stdin: boolean;
}

export function registerAttach(program: Command): void {
  addConnectionOptions(program.command('attach'))
    .description("follow a session (its output from the start or --from, then live) until it exits; exits with the process's code")
    .argument('<session|container>', 'session id, or container id / unique prefix')
    .option('--from <seq>', 'first output chunk to show (sequence number; 1 = the first)', integer)
    .option('-i, --interactive', 'send our stdin (and its EOF) to the process')
    .option('--no-stdin', 'on a tty session, do not send what we type')
    .action(async (target: string, flags: AttachFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const session = ResumingSession.attach(ctx.client, { ...sessionOrContainer(target), fromSequence: flags.from, clientId: clientId() });
      let ready;
      try {
        ready = await session.ready;
      } catch (err) {
        throw new CliError(`cannot attach to ${target}: ${describeError(err)}`);
      }
      const tty = !!ready.terminalSize;
      const stdin = !!flags.interactive || (tty && flags.stdin && !!process.stdin.isTTY);
      try {
        // No signal proxy: Ctrl-C leaves a session we attached to, it does not signal its process.
        const r = await follow(session, ready, { stdin, forwardEof: !!flags.interactive, tty });
        if ('detached' in r) {
          process.stderr.write(detachedMessage(ready.sessionId));
          process.exitCode = 0;
        } else process.exitCode = r.exitCode;
      } catch (err) {
        throw new CliError(`session ${ready.sessionId} ended without an exit code: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
    });
}
