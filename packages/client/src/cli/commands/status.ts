import type { Command } from 'commander';
import { containerOf, contextOf, isoFromNs, toJson } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions } from '../options';

export function registerStatus(program: Command): void {
  addConnectionOptions(program.command('status'))
    .description("a container's state, exit code and times; with --usage its CPU, memory and I/O")
    .argument('<session|container>', "session id (its container's status), or container id / unique prefix")
    .option('--usage', 'include resource usage')
    .option('--json', 'one JSON object (times in Unix ns as strings)')
    .action(async (container: string, flags: { usage?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      let s;
      try {
        s = await ctx.control.status((await containerOf(ctx.control, container)).containerId, !!flags.usage);
      } catch (err) {
        throw new CliError(`cannot get the status of ${container}: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
      if (flags.json) {
        process.stdout.write(`${toJson(s)}\n`);
        return;
      }
      const rows: Array<[string, string]> = [
        ['container', s.containerId],
        ['status', s.status],
        ['exit code', s.exitCode === undefined ? '' : String(s.exitCode)],
        ['started', isoFromNs(s.startedAtNs)],
        ['finished', isoFromNs(s.finishedAtNs)],
      ];
      const u = s.resourceUsage;
      if (u) {
        // In a container's first seconds Docker has given fewer than the two readings a CPU percentage needs.
        rows.push(
          ['cpu', u.readings >= 2 ? `${u.cpuPercent.toFixed(2)}%` : '(needs a second reading)'],
          ['memory', u.readings >= 1 ? `${u.memoryBytes} / ${u.memoryLimit} bytes` : '(no reading yet)'],
          ['io', u.readings >= 1 ? `read ${u.ioReadBytes} bytes, write ${u.ioWriteBytes} bytes` : '(no reading yet)'],
        );
      }
      process.stdout.write(rows.map(([k, v]) => `${`${k}:`.padEnd(11)}${v}\n`).join(''));
    });
}
