import type { Command } from 'commander';
import type { ControlResult } from '../../control-client';
import { containerOf, contextOf, type CommandContext } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions } from '../options';

/** pause, resume and kill: one control call; prints the container on success, as docker does. */
export function registerControl(program: Command): void {
  addConnectionOptions(program.command('pause'))
    .description("pause a container's processes (cgroup freezer)")
    .argument('<session|container>', 'session id (its container), or container id / unique prefix')
    .action((target: string, _flags: object, cmd: Command) =>
      control(cmd, 'pause', target, async (ctx) => ctx.control.pause((await containerOf(ctx.control, target)).containerId)),
    );
  addConnectionOptions(program.command('resume'))
    .description('resume a paused container')
    .argument('<session|container>', 'session id (its container), or container id / unique prefix')
    .action((target: string, _flags: object, cmd: Command) =>
      control(cmd, 'resume', target, async (ctx) => ctx.control.resume((await containerOf(ctx.control, target)).containerId)),
    );
  addConnectionOptions(program.command('kill'))
    .description("send a signal to a container's main process, or with --exec (or an exec session's id) to one exec's process")
    .argument('<session|container>', "session id (its process: an exec session's exec), or container id / unique prefix")
    .option('-s, --signal <signal>', 'signal name or number', 'SIGKILL')
    .option('--exec <id>', "the exec's id (Ready.exec_id of an exec session)")
    .action((target: string, flags: { signal: string; exec?: string }, cmd: Command) =>
      control(cmd, 'kill', target, async (ctx) => {
        const { containerId, execId } = await containerOf(ctx.control, target);
        return ctx.control.signal(containerId, flags.signal, flags.exec ?? execId);
      }),
    );
}

async function control(cmd: Command, what: string, container: string, call: (ctx: CommandContext) => Promise<ControlResult>): Promise<void> {
  const ctx = contextOf(cmd);
  let r: ControlResult;
  try {
    r = await call(ctx);
  } catch (err) {
    throw new CliError(`cannot ${what} ${container}: ${describeError(err)}`);
  } finally {
    ctx.connection.close();
  }
  if (!r.success) throw new CliError(`cannot ${what} ${container}: ${r.message || 'the service said no'}`);
  process.stdout.write(`${container}\n`);
}
