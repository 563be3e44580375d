import type { StreamName } from '../../../common/streams';
import type Docker from 'dockerode';
import type { Duplex, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecError } from '../../../common/errors';
import type { Logger } from '../../../common/logger';
import { rethrowAs, type DockerCall } from '../docker-call';
import { fromDockerError } from '../docker-errors';
import type { LogSkipper } from '../log-skipper';
import { pumpOutput } from '../output-pump';
import { TarFileReader } from './shim-archive';
import { shimCat } from './shim-payload';
import { ShimRecordParser } from './shim-records';

/** Reader execs started while the container runs before waiting for its exit instead. */
const MAX_FOLLOWS = 5;

/**
 * Reads an output record (exec-stream-shim's, in `dir`: a run's or an exec's) of a re-adopted container
 * into `skipper`, which drops what the session already recorded: while the container runs, through a
 * reader exec that follows the record to its end; once it has stopped, from the record's files
 * (Docker's archive API), which no longer change. Resolves when every byte the process wrote has
 * passed (the container may not have stopped yet), with the exit code the record's end holds, if any.
 */
export async function readRecord(container: Docker.Container, dir: string, skipper: LogSkipper, call: DockerCall, log: Logger): Promise<number | undefined> {
  const short = container.id.slice(0, 12);
  const ended: { exitCode?: number } = {};
  for (let follows = 0; ;) {
    const info = await call(`inspect of container ${short}`, (abortSignal) => container.inspect({ abortSignal })).catch(vanished(short));
    const state = info.State;
    if (!state?.Running) break;
    if (state.Paused) {
      await sleep(500); // no exec runs in a paused container
      continue;
    }
    if (follows >= MAX_FOLLOWS) {
      // A reader that keeps failing is given up: the record is read once the container has stopped.
      await waitStopped(container);
      continue;
    }
    follows++;
    if (await followRecord(container, dir, skipper, ended, call, log).catch((err: unknown) => failedFollow(err, short, log))) {
      skipper.verifyComplete();
      return ended.exitCode;
    }
    skipper.rewind();
  }
  skipper.rewind();
  await readStoppedRecord(container, dir, skipper, ended, call);
  return ended.exitCode;
}

/** Resolves once the container is not running (no deadline: a process may run for days). */
export async function waitStopped(container: Docker.Container): Promise<void> {
  await container.wait({ condition: 'not-running' }).catch(rethrowAs(`wait on container ${container.id.slice(0, 12)}`));
}

/** A `.catch` handler for an inspect during recovery: the container is gone (ABORTED), with Docker's reason. */
export function vanished(short: string): (err: unknown) => never {
  return (err) => {
    throw new ExecError('aborted', `container ${short} vanished while its output was being recovered: ${fromDockerError(err, 'inspect').message}`);
  };
}

/** Errors that end the follow but not the recovery: the container stopped or the reader could not run. */
function failedFollow(err: unknown, short: string, log: Logger): false {
  const e = fromDockerError(err, `reader of container ${short}`);
  if (e.kind === 'unavailable' && /unreachable/.test(e.message)) throw e;
  if (e.kind === 'data_loss') throw e;
  log.warn({ err: e.message }, 'reading the output record while the container runs failed: reading it again');
  return false;
}

/** One reader exec: true when it passed the record's end (the process ended), false when it stopped early. */
async function followRecord(
  container: Docker.Container,
  dir: string,
  skipper: LogSkipper,
  ended: { exitCode?: number },
  call: DockerCall,
  log: Logger,
): Promise<boolean> {
  const short = container.id.slice(0, 12);
  const exec = await call(`exec create in container ${short}`, (abortSignal) =>
    container.exec({ abortSignal, Cmd: shimCat(dir), AttachStdout: true, AttachStderr: true, Tty: false }),
  );
  const stream = await call<Duplex>(`exec start ${exec.id.slice(0, 12)}`, (abortSignal) => exec.start({ hijack: true, stdin: false, abortSignal }));
  const parser = recordParser(skipper, ended);
  const complaints: Buffer[] = [];
  let damaged: Error | undefined;
  await pumpOutput(
    stream,
    false,
    {
      write: (name: StreamName, data: Buffer) => {
        if (name !== 'stdout') return void complaints.push(data);
        if (damaged !== undefined) return void complaints.push(data);
        try {
          parser.push(data);
        } catch (err) {
          // Either the record is damaged, or what came is not the reader's (Docker writes a failed exec's
          // error, "OCI runtime exec failed: …", into its stream): the reader's exit code tells which.
          damaged = err instanceof Error ? err : new ExecError('data_loss', `the output record is damaged: ${String(err)}`);
          complaints.push(data);
        }
      },
    },
    `output record of container ${short}`,
  );
  if (complaints.length) log.warn({ reader: Buffer.concat(complaints).toString('utf8').slice(0, 500) }, 'the output record reader complained');
  if (damaged === undefined) return parser.ended;
  const exitCode = await call(`inspect of exec ${exec.id.slice(0, 12)}`, (abortSignal) => exec.inspect({ abortSignal })).then(
    (i) => i.ExitCode,
    () => undefined,
  );
  // The reader ran to its end (0) over a record it could not parse: the record is damaged.
  if (exitCode === 0) throw damaged;
  log.warn({ exitCode, err: damaged.message }, 'the output record reader did not run (the container stopping?): reading it again');
  return false;
}

/** The whole record of a stopped container, segment by segment, from Docker's archive of its folder. */
async function readStoppedRecord(container: Docker.Container, dir: string, skipper: LogSkipper, ended: { exitCode?: number }, call: DockerCall): Promise<void> {
  const short = container.id.slice(0, 12);
  const tar = await call(`archive of the output record of container ${short}`, (abortSignal) => container.getArchive({ path: dir, abortSignal })).catch(
    (err) => {
      throw new ExecError('data_loss', `container ${short}: its output record cannot be read: ${fromDockerError(err, 'archive').message}`);
    },
  );
  let parser: ShimRecordParser | undefined;
  let unrecorded = false;
  const files = new TarFileReader({
    // Entries are the folder's own (Docker names them <folder name>/<file>): segments, and the marker.
    file: (name) => {
      const file = name.slice(name.indexOf('/') + 1);
      parser = /^out\.\d+$/.test(file) ? recordParser(skipper, ended) : undefined;
      if (file === 'unrecorded') unrecorded = true;
    },
    data: (piece) => parser?.push(piece),
  });
  await new Promise<void>((resolve, reject) => {
    const body = tar as Readable;
    body.on('data', (b: Buffer) => {
      try {
        files.push(b);
      } catch (err) {
        body.destroy();
        reject(err instanceof ExecError ? err : new ExecError('data_loss', `container ${short}: its output record is damaged: ${(err as Error).message}`));
      }
    });
    body.on('end', () => (files.done || files.complete ? resolve() : reject(new ExecError('data_loss', `container ${short}: its output record ended early`))));
    body.on('error', (err) => reject(new ExecError('unavailable', `container ${short}: reading its output record failed: ${err.message}`)));
  });
  if (unrecorded) {
    throw new ExecError(
      'data_loss',
      `container ${short} could not write its output record (Docker's data disk full?): output it wrote while exec-stream was down may be missing`,
    );
  }
  skipper.verifyComplete();
}

/** A parser feeding the skipper: output bytes, and the stream positions where a segment begins; the end's exit code into `ended`. */
function recordParser(skipper: LogSkipper, ended: { exitCode?: number }): ShimRecordParser {
  return new ShimRecordParser({
    output: (stream, data) => skipper.write(stream, data),
    segment: (before) => skipper.skipTo(before),
    end: (exitCode) => (ended.exitCode = exitCode),
  });
}
