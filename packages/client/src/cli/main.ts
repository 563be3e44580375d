#!/usr/bin/env node
// The exec-stream CLI (docs/CLI.md): docker-like commands over the client of this package.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerAttach } from './commands/attach';
import { registerAudit } from './commands/audit';
import { registerControl } from './commands/control';
import { registerCp } from './commands/cp';
import { registerEvents } from './commands/events';
import { registerLogs } from './commands/logs';
import { registerLs } from './commands/ls';
import { registerPs } from './commands/ps';
import { registerRm } from './commands/rm';
import { registerStop, registerWait } from './commands/stop';
import { registerExec, registerRun } from './commands/run';
import { registerStatus } from './commands/status';
import { describeError, EXIT_FAILED, exitCodeFor } from './exit-codes';
import { addConnectionOptions } from './options';
import { flushed } from './tty';

// Our stderr is for the process's output and our one-line failures, not for dependencies' deprecations.
process.noDeprecation = true;

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The program: connection flags go before the command (as `docker -H`) or after it. */
export function buildProgram(): Command {
  const program = addConnectionOptions(new Command('exec-stream'))
    .description('Run commands in containers through an exec-stream service, as you would with docker.')
    .version(version())
    .enablePositionalOptions()
    .showHelpAfterError('(exec-stream --help lists the commands)')
    .exitOverride();
  registerRun(program);
  registerExec(program);
  registerAttach(program);
  registerLogs(program);
  registerLs(program);
  registerPs(program);
  registerEvents(program);
  registerStatus(program);
  registerControl(program);
  registerStop(program);
  registerWait(program);
  registerRm(program);
  registerCp(program);
  registerAudit(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Parses argv, runs the command, and exits with its code: the process's, or 125-127 for our failures. */
async function main(argv: string[]): Promise<void> {
  // A reader that went away (`| head`): end quietly, as a process killed by SIGPIPE does (128 + 13).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 141 : EXIT_FAILED));
  }
  let code: number;
  try {
    await buildProgram().parseAsync(argv);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end with 0; bad flags are the CLI's failure (commander has printed why).
      code = err.exitCode === 0 ? 0 : EXIT_FAILED;
    } else {
      process.stderr.write(`exec-stream: ${describeError(err)}\n`);
      code = exitCodeFor(err);
    }
  }
  await flushed();
  process.exit(code);
}

void main(process.argv);
