import fs, { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecError } from '../../common/errors';
import { DataDirError } from './data-dir-errors';
import { verifySessionData } from './session-data-verify';
import { RECORD_BYTES, SessionFiles } from './session-files';

let dir: string;
beforeEach(() => (dir = join(mkdtempSync(join(tmpdir(), 'session-files-')), 's')));
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

function write(chunks: Array<['stdout' | 'stderr', string]>): SessionFiles {
  const f = SessionFiles.create(dir, { version: 1 });
  chunks.forEach(([s, t], i) => f.append(s, Buffer.from(t), BigInt(i)));
  return f;
}

describe('SessionFiles.open', () => {
  it('reopens a folder: same chunks, and appends continue the sequence and the stream files', async () => {
    write([
      ['stdout', 'a'],
      ['stderr', 'bb'],
      ['stdout', 'ccc'],
    ]).close();
    const { files, report } = SessionFiles.open(dir);
    expect(report.problems).toEqual([]);
    expect(files.chunkCount).toBe(3);
    expect(files.append('stdout', Buffer.from('dd'), 9n)).toBe(4);
    expect((await files.readChunk(4)).data.toString()).toBe('dd');
    expect((await files.readChunk(2)).data.toString()).toBe('bb');
    files.close();
    expect(readFileSync(join(dir, 'stdout'), 'utf8')).toBe('acccdd');
  });

  it('cuts bytes written after the last indexed chunk (a crash between data and index) so appends do not leave a hole', () => {
    write([['stdout', 'abc']]).close();
    appendFileSync(join(dir, 'stdout'), 'XYZ'); // data written, index record never was
    appendFileSync(join(dir, 'index'), Buffer.alloc(7)); // and a torn record
    const { files, report } = SessionFiles.open(dir);
    expect(report.tornBytes).toBe(7);
    expect(report.unindexedBytes).toBe(3);
    files.append('stdout', Buffer.from('def'), 1n);
    files.close();
    expect(readFileSync(join(dir, 'stdout'), 'utf8')).toBe('abcdef');
    expect(readFileSync(join(dir, 'index')).length).toBe(2 * RECORD_BYTES);
  });

  it('never serves a chunk whose data was altered: the background check and reads both catch it', async () => {
    write([
      ['stdout', 'good-1'],
      ['stdout', 'good-2'],
      ['stdout', 'good-3'],
    ]).close();
    const raw = readFileSync(join(dir, 'stdout'));
    raw[8] ^= 1; // inside chunk 2
    writeFileSync(join(dir, 'stdout'), raw);
    const { files, report } = SessionFiles.open(dir);
    expect(report.missing).toEqual([]); // the index itself is fine
    await expect(files.readChunk(2)).rejects.toThrow(/chunk 2 of stdout is corrupt/);
    expect(await verifySessionData(files, report.entries)).toEqual([2]);
    expect(files.nextAvailable(2)).toEqual({ sequence: 3, gap: 1 });
    await expect(files.readChunk(2)).rejects.toThrow(/missing/);
    expect((await files.readChunk(3)).data.toString()).toBe('good-3');
    files.close();
  });

  it('a check that cannot open the files (no fd left: EMFILE) rejects and marks no chunk missing', async () => {
    write([
      ['stdout', 'one'],
      ['stderr', 'two'],
    ]).close();
    const { files, report } = SessionFiles.open(dir);
    files.endRecording(); // closed: the check opens them again
    const open = jest.spyOn(fs, 'openSync').mockImplementation(() => {
      throw Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE' });
    });
    try {
      await expect(verifySessionData(files, report.entries)).rejects.toThrow(/file descriptors/);
    } finally {
      open.mockRestore();
    }
    expect(files.missing).toEqual([]);
    expect(await verifySessionData(files, report.entries)).toEqual([]);
    expect((await files.readChunk(2)).data.toString()).toBe('two');
    files.close();
  });

  it('reports chunks of a truncated stream file as missing', () => {
    write([
      ['stdout', 'aaaa'],
      ['stdout', 'bbbb'],
      ['stderr', 'e'],
      ['stdout', 'cccc'],
    ]).close();
    truncateSync(join(dir, 'stdout'), 6);
    const { files, report } = SessionFiles.open(dir);
    expect(report.missing).toEqual([2, 4]);
    expect(files.nextAvailable(2)).toEqual({ sequence: 3, gap: 1 });
    expect(files.bytes).toEqual({ stdout: 4, stderr: 1 });
    files.close();
  });

  it('a sealed folder records nothing more and writes no exit record', () => {
    const f = write([['stdout', 'x']]);
    f.seal();
    expect(() => f.append('stdout', Buffer.from('y'), 2n)).toThrow(/shutting down/);
    f.writeExit({ exitCode: 0, finishedAt: 1 });
    expect(f.readExit()).toBeUndefined();
    f.close();
  });
});

describe('SessionFiles descriptors (open on demand)', () => {
  const openFds = () => readdirSync('/proc/self/fd').length;

  it('holds no descriptor once recording ended and nobody reads; a reader reopens them and they close after', async () => {
    const before = openFds();
    const f = write([
      ['stdout', 'a'],
      ['stderr', 'bb'],
    ]);
    expect(f.openDescriptors).toBe(3);
    f.endRecording();
    expect(f.openDescriptors).toBe(0);
    expect(openFds()).toBe(before);
    expect((await f.readChunk(2)).data.toString()).toBe('bb'); // opened for the read, closed after it
    expect(f.openDescriptors).toBe(0);
    const release = f.hold();
    expect((await f.readChunk(1)).data.toString()).toBe('a');
    expect(f.openDescriptors).toBe(3); // kept open while a reader holds them
    release();
    expect(f.openDescriptors).toBe(0);
    expect(openFds()).toBe(before);
    expect(() => f.append('stdout', Buffer.from('x'), 3n)).toThrow(/closed/);
    f.close();
    await expect(f.readChunk(1)).rejects.toThrow(/closed/);
  });

  it('a close during a read closes the descriptors when the read settles, never before', async () => {
    const f = write([['stdout', 'abc']]);
    f.endRecording();
    const before = openFds();
    const read = f.readChunk(1);
    f.close();
    expect((await read).data.toString()).toBe('abc');
    expect(openFds()).toBe(before);
  });

  it('a close that reports an error (EIO from an NFS data directory) never throws, lets every fd go and keeps none of their numbers', async () => {
    const before = openFds();
    const f = write([['stdout', 'abc']]);
    const realClose = fs.closeSync;
    const close = jest.spyOn(fs, 'closeSync').mockImplementation((fd) => {
      realClose(fd); // Linux releases the fd whatever close(2) reports
      throw Object.assign(new Error('EIO: i/o error, close'), { code: 'EIO' });
    });
    try {
      expect(() => f.endRecording()).not.toThrow();
      expect(close).toHaveBeenCalledTimes(3);
      expect(f.openDescriptors).toBe(0);
      expect(openFds()).toBe(before);
      expect((await f.readChunk(1)).data.toString()).toBe('abc'); // opened again for the read; its close fails too
      expect(close).toHaveBeenCalledTimes(6);
      expect(f.openDescriptors).toBe(0);
      // A reader holds them open; the session is removed under it (the reserve's clean-up): close() closes.
      f.hold();
      await f.readChunk(1);
      expect(f.openDescriptors).toBe(3);
      expect(() => f.close()).not.toThrow();
      expect(close).toHaveBeenCalledTimes(9);
      expect(f.openDescriptors).toBe(0);
    } finally {
      close.mockRestore();
    }
    expect(openFds()).toBe(before);
  });
});

describe('SessionFiles on a full disk', () => {
  it('a failed append is RESOURCE_EXHAUSTED naming the data directory, and records nothing', () => {
    // <data dir>/sessions/<id>/ whose stdout is /dev/full: every write fails with ENOSPC.
    const sessionDir = join(dir, 'sessions', 'id');
    mkdirSync(sessionDir, { recursive: true });
    symlinkSync('/dev/full', join(sessionDir, 'stdout'));
    const f = SessionFiles.create(sessionDir, { version: 1 });
    f.append('stderr', Buffer.from('e'), 1n);
    let err: unknown;
    try {
      f.append('stdout', Buffer.from('lost'), 2n);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirError);
    expect((err as ExecError).kind).toBe('exhausted');
    expect((err as ExecError).message).toContain(`the data directory ${dir} (EXEC_DATA_DIR) is full (ENOSPC)`);
    expect(f.chunkCount).toBe(1);
    expect(f.bytes).toEqual({ stdout: 0, stderr: 1 });
    f.close();
  });
});
