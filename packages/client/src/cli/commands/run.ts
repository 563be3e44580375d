import type { Command } from 'commander';
import type { ProcessOptions } from '../../exec-client';
import { ResumingSession } from '../../resuming-session';
import { clientId } from '../client-id';
import { contextOf, resolveContainer } from '../context';
import { CliError, describeError, EXIT_FAILED, exitCodeFor } from '../exit-codes';
import { follow } from '../follow';
import { addConnectionOptions, byteSize, duration, envVar, integer, keyValue, oneOf, positiveNumber } from '../options';

interface ProcessFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: Record<string, string>;
  workdir?: string;
  user?: string;
}

interface RunFlags extends ProcessFlags {
  label: Record<string, string>;
  memory?: number;
  cpus?: number;
  pidsLimit?: number;
  timeout?: number;
  idleTimeout?: number;
  pull?: 'never' | 'if_missing' | 'always';
  readOnly?: boolean;
  requestId?: string;
}

function processOptions(cmd: Command): Command {
  return cmd
    .option('-i, --interactive', 'keep stdin open and send ours to it')
    .option('-t, --tty', 'give the process a terminal (raw mode here, resizes follow ours; Ctrl-P Ctrl-Q detaches)')
    .option('-d, --detach', 'start it, print the session id and leave it running')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable; KEY alone passes ours)', envVar, {})
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'user to run as (name or uid[:gid])')
    .passThroughOptions();
}

export function registerRun(program: Command): void {
  addConnectionOptions(processOptions(program.command('run')))
    .description('run a command in a new container; exits with its exit code')
    .argument('<image>', 'image (present on the service host, or see --pull)')
    .argument('[command...]', "the command and its arguments (default: the image's)")
    .option('-l, --label <KEY=VALUE>', 'label the session and its container (repeatable)', keyValue, {})
    .option('-m, --memory <bytes>', 'memory limit: bytes or with a unit (512m, 1g)', byteSize)
    .option('--cpus <n>', 'CPUs (fractional, e.g. 1.5)', positiveNumber)
    .option('--pids-limit <n>', 'process limit', integer)
    .option('--timeout <duration>', 'kill the process after this long (30s, 5m, 1h30m)', duration)
    .option('--idle-timeout <duration>', 'kill the process after this long without output', duration)
    .option('--pull <policy>', 'image pull policy: never, if_missing, always', oneOf('never', 'if_missing', 'always'))
    .option('--read-only', 'read-only root filesystem (a writable /tmp)')
    .option('--request-id <id>', 'idempotency key: a second run with it attaches to the first')
    .action(async (image: string, command: string[], flags: RunFlags, cmd: Command) => {
      process.exitCode = await startProcess(cmd, flags, (ctx, options) => ResumingSession.run(ctx.client, image, options), {
        labels: flags.label,
        memoryBytes: flags.memory,
        cpus: flags.cpus,
        pidsLimit: flags.pidsLimit,
        timeoutMs: flags.timeout,
        idleTimeoutMs: flags.idleTimeout,
        pull: flags.pull,
        readOnlyRootfs: flags.readOnly,
        requestId: flags.requestId,
        command: withoutSeparator(command),
      });
    });
}

export function registerExec(program: Command): void {
  addConnectionOptions(processOptions(program.command('exec')))
    .description("run a command in a running container (one this service manages); exits with the command's exit code")
    .argument('<container>', 'container id or unique prefix, or a session id (its container)')
    .argument('<command...>', 'the command and its arguments')
    .action(async (container: string, command: string[], flags: ProcessFlags, cmd: Command) => {
      const argv = withoutSeparator(command);
      if (!argv.length) throw new CliError('exec needs a command after the container');
      const target = await resolveContainer(cmd, container);
      process.exitCode = await startProcess(cmd, flags, (ctx, options) => ResumingSession.exec(ctx.client, target, { ...options, command: argv }), {
        command: argv,
      });
    });
}

/** `IMAGE -- CMD…`: options stop at IMAGE, so a `--` after it is only a separator. */
function withoutSeparator(command: string[]): string[] {
  return command[0] === '--' ? command.slice(1) : command;
}

type Starter = (ctx: ReturnType<typeof contextOf>, options: ProcessOptions) => ResumingSession;

/** Starts the process, then follows it (or, with -d, prints its session id); returns the exit code. */
async function startProcess(cmd: Command, flags: ProcessFlags, start: Starter, extra: ProcessOptions): Promise<number> {
  if (flags.interactive && flags.tty && !process.stdin.isTTY && !flags.detach) {
    // As docker: raw mode needs a terminal; without one, drop -t or use -i alone.
    throw new CliError('the input device is not a TTY (use -i without -t, or run from a terminal)');
  }
  const ctx = contextOf(cmd);
  const session = start(ctx, {
    ...extra,
    env: flags.env,
    workingDir: flags.workdir,
    user: flags.user,
    tty: !!flags.tty,
    openStdin: !!flags.interactive,
    clientId: clientId(),
  });
  let ready;
  try {
    ready = await session.ready;
  } catch (err) {
    throw new CliError(`cannot start the command: ${describeError(err)}`, exitCodeFor(err, true));
  }
  if (flags.detach) {
    process.stdout.write(`${ready.sessionId}\n`);
    session.cancel();
    return 0;
  }
  try {
    const r = await follow(session, ready, { stdin: !!flags.interactive, forwardEof: !!flags.interactive, tty: !!flags.tty, control: ctx.control });
    if ('detached' in r) {
      process.stderr.write(detachedMessage(ready.sessionId));
      return 0;
    }
    return r.exitCode;
  } catch (err) {
    throw new CliError(`session ${ready.sessionId} ended without an exit code: ${describeError(err)}`, EXIT_FAILED);
  } finally {
    ctx.connection.close();
  }
}

export function detachedMessage(sessionId: string): string {
  return `\r\nexec-stream: detached; the session goes on. Back to it: exec-stream attach ${sessionId}\r\n`;
}
