import type { StreamName } from '../../../common/streams';
import type Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createRootLogger } from '../../../common/logger';
import { LogSkipper } from '../log-skipper';
import type { DockerCall } from '../docker-call';
import { readRecord } from './shim-readopt';

function rec(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}
const exitRecord = (code: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(code, 0);
  return rec(3, b);
};
/** A frame of Docker's multiplexed exec stream (stdout). */
const frame = (data: Buffer) => {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
};

/** The archive Docker gives of a stopped container's record folder `out`: one segment. */
function recordArchive(segment: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'shim-readopt-'));
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'out', 'out.00000001'), segment);
  return execFileSync('tar', ['-cf', '-', '-C', dir, 'out']);
}

/**
 * A container that stops as its record is re-adopted: running at the first look, so a reader exec is
 * made, but Docker writes the failed exec's error into the exec's stream instead of the reader's output,
 * and the exec's exit code says it never ran; then stopped, its record read from the archive.
 */
function stoppingContainer(readerExitCode: number, archive: Buffer) {
  let looks = 0;
  const container = {
    id: 'c'.repeat(64),
    inspect: () => Promise.resolve({ State: { Running: looks++ === 0, Paused: false } }),
    wait: () => Promise.resolve({ StatusCode: 3 }),
    exec: () =>
      Promise.resolve({
        id: 'e'.repeat(64),
        start: () => {
          const s = new PassThrough();
          s.end(
            frame(Buffer.from('OCI runtime exec failed: exec failed: container_linux.go:380: starting container process caused: process_linux.go: ...\r\n')),
          );
          return Promise.resolve(s);
        },
        inspect: () => Promise.resolve({ ExitCode: readerExitCode, Running: false }),
      }),
    getArchive: () => Promise.resolve(Readable.from([archive])),
  };
  return container as unknown as Docker.Container;
}

function skipperInto(got: Record<StreamName, Buffer[]>): LogSkipper {
  const sink = { write: (s: StreamName, d: Buffer) => void got[s].push(Buffer.from(d)) };
  return new LogSkipper(sink, { stdout: 0, stderr: 0 }, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }, 'the record');
}

const call: DockerCall = (_operation, fn) => fn(new AbortController().signal);

describe('readRecord', () => {
  const archive = recordArchive(Buffer.concat([rec(1, Buffer.from('hello\n')), exitRecord(3)]));

  it("a reader exec that did not run (Docker's error in its stream, exit 126) is not the record: it is read again, from the stopped container", async () => {
    const got: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
    const exitCode = await readRecord(stoppingContainer(126, archive), 'out', skipperInto(got), call, createRootLogger('silent'));
    expect({ exitCode, stdout: Buffer.concat(got.stdout).toString() }).toEqual({ exitCode: 3, stdout: 'hello\n' });
  });

  it('a reader that ran to its end (exit 0) over bytes that are not records: the record is damaged, DATA_LOSS', async () => {
    const got: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
    await expect(readRecord(stoppingContainer(0, archive), 'out', skipperInto(got), call, createRootLogger('silent'))).rejects.toMatchObject({
      kind: 'data_loss',
      message: expect.stringMatching(/unknown record type 79/),
    });
  });
});
