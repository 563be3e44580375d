import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shimUploadTar, TarFileReader } from './shim-archive';

describe('shim archive', () => {
  it('the upload unpacks with tar(1) into the binary (0755) and folders anyone can write (1777)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shim-tar-'));
    writeFileSync(join(dir, 'upload.tar'), shimUploadTar('exec-stream-shim', Buffer.from('#!binary'), ['out', 'execs']));
    execFileSync('tar', ['-xf', 'upload.tar', '--no-same-owner', '--no-same-permissions', '-p'], { cwd: dir });
    expect(readFileSync(join(dir, 'exec-stream-shim'), 'utf8')).toBe('#!binary');
    expect(statSync(join(dir, 'exec-stream-shim')).mode & 0o777).toBe(0o755);
    for (const d of ['out', 'execs']) expect(statSync(join(dir, d)).mode & 0o7777).toBe(0o1777);
  });

  it('TarFileReader gives each regular file of a tar(1) archive, byte-exact, whatever the pieces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shim-tar-'));
    execFileSync('mkdir', ['-p', join(dir, 'out')]);
    const files: Record<string, Buffer> = {
      'out/out.00000001': Buffer.alloc(1000, 1),
      'out/out.00000002': Buffer.alloc(512, 2),
      'out/unrecorded': Buffer.alloc(0),
      [`out/${'long-name-'.repeat(12)}`]: Buffer.from('pax path'),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const tar = execFileSync('tar', ['--format=pax', '-cf', '-', '-C', dir, 'out']);
    for (const size of [1, 100, 512, 4096, tar.length]) {
      const got: Record<string, Buffer[]> = {};
      let current = '';
      const reader = new TarFileReader({
        file: (name) => (got[(current = name)] = []),
        data: (piece) => got[current].push(Buffer.from(piece)),
      });
      for (let at = 0; at < tar.length; at += size) reader.push(tar.subarray(at, at + size));
      expect(reader.done).toBe(true);
      expect(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, Buffer.concat(v)]))).toEqual(files);
    }
  });
});
