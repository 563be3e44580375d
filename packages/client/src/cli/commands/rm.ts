import type { Command } from 'commander';
import type { SessionInfo__Output } from '../../gen';
import { allSessions, contextOf, sessionOrContainer } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions } from '../options';

export function registerRm(program: Command): void {
  addConnectionOptions(program.command('rm'))
    .description('forget finished sessions now, before retention does (RemoveSession); prints each target. A container stands for all its sessions')
    .argument('<session|container...>', 'session ids, or container ids / unique prefixes')
    .option('-f, --force', 'running sessions too: their processes are killed first (SIGKILL)')
    .action(async (targets: string[], flags: { force?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      try {
        for (const target of targets) {
          try {
            const t = sessionOrContainer(target);
            const sessions: SessionInfo__Output[] =
              'sessionId' in t ? [{ session_id: t.sessionId }] : (await allSessions(ctx.control, { container_id: t.containerId })).sessions;
            if (!sessions.length) throw new Error(`no session of container ${target}`);
            const running = sessions.filter((s) => s.state === 'running');
            if (running.length && !flags.force) {
              throw new Error(`${running.length} session(s) of it still run (${running.map((s) => s.session_id).join(', ')}): stop them first, or rm -f`);
            }
            for (const s of sessions) await ctx.control.removeSession(s.session_id ?? '', { force: !!flags.force });
          } catch (err) {
            throw new CliError(`cannot remove ${target}: ${describeError(err)}`);
          }
          process.stdout.write(`${target}\n`);
        }
      } finally {
        ctx.connection.close();
      }
    });
}
