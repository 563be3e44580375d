import type { Command } from 'commander';
import type { ControlResult } from '../../control-client';
import { contextOf, type CommandContext } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions } from '../options';

/** pause, resume and kill: one control call; prints the container on success, as docker does. */
export function registerControl(program: Command): void {
  addConnectionOptions(program.command('pause'))
    .description("pause a container's processes (cgroup freezer)")
    .argument('<container>', 'container id or unique prefix')
    .action((container: string, _flags: object, cmd: Command) => control(cmd, 'pause', container, (ctx) => ctx.control.pause(container)));
  addConnectionOptions(program.command('resume'))
    .description('resume a paused container')
    .argument('<container>', 'container id or unique prefix')
    .action((container: string, _flags: object, cmd: Command) => control(cmd, 'resume', container, (ctx) => ctx.control.resume(container)));
  addConnectionOptions(program.command('kill'))
    .description("send a signal to a container's main process, or with --exec to one exec's process")
    .argument('<container>', 'container id or unique prefix')
    .option('-s, --signal <signal>', 'signal name or number', 'SIGKILL')
    .option('--exec <id>', "the exec's id (Ready.exec_id of an exec session)")
    .action((container: string, flags: { signal: string; exec?: string }, cmd: Command) =>
      control(cmd, 'kill', container, (ctx) => ctx.control.signal(container, flags.signal, flags.exec)),
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
