import type { Command } from 'commander';
import type { ExecSession, OutputStreamName } from '../../exec-client';
import { HELD_END, sessionLog } from '../../held-output';
import { contextOf, sessionOrContainer } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions, integer, oneOf } from '../options';
import { writeOut } from '../tty';
import { TimestampLines } from '../timestamps';
import { asciicast } from '../../recording';

interface LogsFlags {
  follow?: boolean;
  tail?: number;
  since?: number;
  timestamps?: boolean;
  format: 'raw' | 'asciicast';
}

export function registerLogs(program: Command): void {
  addConnectionOptions(program.command('logs'))
    .description('print the output a session holds (stdout and stderr apart), then exit 0; with -f, go on with its live output until it ends')
    .argument('<session|container>', 'session id, or container id / unique prefix')
    .option('-f, --follow', 'go on printing the output as it comes, until the process ends (exit 0)')
    .option('-n, --tail <lines>', 'only the last N lines of what the session holds (per line, whichever its stream)', integer)
    .option('--since <seq>', 'from this output chunk on (a sequence number, as attach --from; 1 = the first)', integer)
    .option('-t, --timestamps', "prefix each line with its chunk's time (RFC 3339, ns), as docker logs -t")
    .option(
      '--format <format>',
      'raw: the output as it was (default); asciicast: an asciicast v2 recording of it, with its terminal sizes',
      oneOf('raw', 'asciicast'),
      'raw',
    )
    .action(async (target: string, flags: LogsFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      let session: ExecSession | undefined;
      try {
        if (flags.format === 'asciicast') {
          for await (const line of asciicast(ctx.connection, sessionOrContainer(target))) await writeOut(process.stdout, Buffer.from(`${line}\n`));
        } else {
          session = ctx.client.attach({ ...sessionOrContainer(target), sequenced: true, fromSequence: flags.since });
          await printLogs(session, flags, flags.timestamps ? new TimestampLines() : undefined);
        }
      } catch (err) {
        throw new CliError(`cannot read the output of ${target}: ${describeError(err)}`);
      } finally {
        session?.cancel();
        ctx.connection.close();
      }
    });
}

/** The last `n` lines of what is pushed, each with its stream; a line cut short at the end counts as one. */
export class TailLines {
  private readonly lines: Array<{ stream: OutputStreamName; data: Buffer }> = [];
  private readonly open: Record<OutputStreamName, Buffer[]> = { stdout: [], stderr: [] };

  constructor(private readonly n: number) {}

  push(stream: OutputStreamName, data: Buffer): void {
    let from = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, from)) {
      this.lines.push({ stream, data: Buffer.concat([...this.open[stream], data.subarray(from, nl + 1)]) });
      this.open[stream] = [];
      if (this.lines.length > this.n) this.lines.shift();
      from = nl + 1;
    }
    if (from < data.length) this.open[stream].push(data.subarray(from));
  }

  /** The kept lines in order, then each stream's unfinished one. */
  take(): Array<{ stream: OutputStreamName; data: Buffer }> {
    const all = [...this.lines];
    for (const stream of ['stdout', 'stderr'] as const) if (this.open[stream].length) all.push({ stream, data: Buffer.concat(this.open[stream]) });
    return all.slice(Math.max(0, all.length - this.n));
  }
}

const out = (stream: OutputStreamName, data: Buffer) => writeOut(stream === 'stderr' ? process.stderr : process.stdout, data);

/**
 * A sequenced attach replays what the session holds, then sends Ready{replay_complete} (or, when the
 * session has finished, its exit): the chunks received before that mark are what it holds
 * (sessionLog). They are printed (the last `tail` lines of them only, with --tail); with `follow` the
 * live chunks after them too, until the process ends.
 */
async function printLogs(session: ExecSession, flags: LogsFlags, stamps?: TimestampLines): Promise<void> {
  let tail = flags.tail === undefined ? undefined : new TailLines(flags.tail);
  const flushTail = async () => {
    for (const line of tail?.take() ?? []) await out(line.stream, line.data);
    tail = undefined;
  };
  for await (const piece of sessionLog(session, !!flags.follow)) {
    if (piece === HELD_END) {
      await flushTail(); // everything held has been seen
      continue;
    }
    const data = stamps ? stamps.apply(piece) : piece.data;
    if (tail) tail.push(piece.stream, data);
    else await out(piece.stream, data);
  }
  await flushTail();
}
