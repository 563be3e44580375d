import type { Command } from 'commander';
import type { ExecSession, OutputPiece } from '../../exec-client';
import type { SessionResponse__Output } from '../../gen';
import { contextOf, sessionOrContainer } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions, oneOf } from '../options';
import { writeOut } from '../tty';
import { TimestampLines } from '../timestamps';
import { asciicast } from '../../recording';

interface LogsFlags {
  timestamps?: boolean;
  format: 'raw' | 'asciicast';
}

export function registerLogs(program: Command): void {
  addConnectionOptions(program.command('logs'))
    .description('print the output a session holds now (stdout and stderr apart), then exit 0; a running session is not followed')
    .argument('<session|container>', 'session id, or container id / unique prefix')
    .option('-t, --timestamps', "prefix each line with its chunk's time (RFC 3339, ns), as docker logs -t")
    .option(
      '--format <format>',
      'raw: the output as it was (default); asciicast: an asciicast v2 recording of it, with its terminal sizes',
      oneOf('raw', 'asciicast'),
      'raw',
    )
    .action(async (target: string, flags: LogsFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      try {
        if (flags.format === 'asciicast') {
          for await (const line of asciicast(ctx.connection, sessionOrContainer(target))) await writeOut(process.stdout, Buffer.from(`${line}\n`));
        } else {
          await printRetained(ctx.client.attach({ ...sessionOrContainer(target), sequenced: true }), flags.timestamps ? new TimestampLines() : undefined);
        }
      } catch (err) {
        throw new CliError(`cannot read the output of ${target}: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
    });
}

/**
 * A sequenced attach replays what the session holds, then sends Ready{replay_complete} (or, when the
 * session has finished, its exit): print the chunks received before that mark, then leave.
 */
async function printRetained(session: ExecSession, stamps?: TimestampLines): Promise<void> {
  let received = 0;
  let held: number | undefined;
  let wake: () => void = () => undefined;
  session.call.on('data', (m: SessionResponse__Output) => {
    if (m.output_chunk) received++;
    else if (m.ready?.replay_complete && held === undefined) {
      held = received;
      wake();
    }
  });
  const output = session.output();
  let printed = 0;
  let pending: Promise<IteratorResult<OutputPiece>> | undefined;
  try {
    for (;;) {
      if (held !== undefined && printed >= held) return;
      const woken = new Promise<'woken'>((resolve) => (wake = () => resolve('woken')));
      pending ??= output.next();
      const next = await Promise.race([pending, woken]);
      if (next === 'woken') continue; // the mark came: look again whether everything before it is out
      pending = undefined;
      if (next.done) return;
      if (next.value.isReplay === false && held !== undefined) return; // live output: not ours to wait for
      await writeOut(next.value.stream === 'stderr' ? process.stderr : process.stdout, stamps ? stamps.apply(next.value) : next.value.data);
      printed++;
    }
  } finally {
    pending?.catch(() => undefined);
    session.cancel();
  }
}
