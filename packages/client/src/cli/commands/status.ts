import type { Command } from 'commander';
import { contextOf, isoFromNs, toJson } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions } from '../options';

export function registerStatus(program: Command): void {
  addConnectionOptions(program.command('status'))
    .description("a container's state, exit code and times; with --usage its CPU, memory and I/O")
    .argument('<container>', 'container id or unique prefix')
    .option('--usage', 'include resource usage')
    .option('--json', 'one JSON object (times in Unix ns as strings)')
    .action(async (container: string, flags: { usage?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      let s;
      try {
        s = await ctx.control.status(container, !!flags.usage);
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
        rows.push(
          ['cpu', `${u.cpuPercent.toFixed(2)}%`],
          ['memory', `${u.memoryBytes} / ${u.memoryLimit} bytes`],
          ['io', `read ${u.ioReadBytes} bytes, write ${u.ioWriteBytes} bytes`],
        );
      }
      process.stdout.write(rows.map(([k, v]) => `${`${k}:`.padEnd(11)}${v}\n`).join(''));
    });
}
