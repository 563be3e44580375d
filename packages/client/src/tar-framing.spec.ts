import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TarFraming, TarFramingError, type TarEntryHeader } from './tar-framing';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tar-framing-'));
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'src', 'a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'src', 'sub', 'b.bin'), Buffer.alloc(70_000, 7));
  writeFileSync(join(dir, 'src', 'empty'), '');
  // A path over 100 bytes: ustar splits it (prefix), PAX and GNU write a record before the header.
  mkdirSync(join(dir, 'src', 'sub', 'd'.repeat(60)));
  writeFileSync(join(dir, 'src', 'sub', 'd'.repeat(60), 'n'.repeat(60)), 'long name\n');
  // A sparse file with more data regions than a GNU header holds (4): extension blocks follow its header.
  const fd = openSync(join(dir, 'src', 'sparse'), 'w');
  for (let i = 0; i < 10; i++) writeSync(fd, Buffer.from(`region ${i}`), 0, 8, i * 65536);
  closeSync(fd);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GNU tar's archive of the test tree in `format` (plus extra options). */
const archive = (format: string, ...extra: string[]) =>
  execFileSync('tar', ['-c', '-f', '-', `--format=${format}`, ...extra, '-C', join(dir, 'src'), '.'], { maxBuffer: 64 << 20 });

/** Pushes `tar` in pieces of `size` bytes; returns the entries seen. */
function follow(tar: Buffer, size: number, framing?: TarFraming): { framing: TarFraming; entries: TarEntryHeader[] } {
  const entries: TarEntryHeader[] = [];
  const f = framing ?? new TarFraming((e) => entries.push({ ...e }));
  for (let at = 0; at < tar.length; at += size) f.push(tar.subarray(at, at + size));
  return { framing: f, entries };
}

/** Writes a header block's checksum for its current bytes. */
function rechecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
}

const names = (entries: TarEntryHeader[]) => entries.map((e) => `${e.type} ${e.name.replace(/d{60}/, 'D60').replace(/n{60}/, 'N60')} ${e.size}`).sort();

describe('TarFraming', () => {
  it.each(['ustar', 'pax', 'gnu'])('follows a %s archive in pieces of any size: every entry, complete at the end', (format) => {
    const tar = archive(format);
    const expected = names(follow(tar, tar.length).entries);
    expect(expected).toEqual(
      ['5 ./ 0', '5 ./sub/ 0', '5 ./sub/D60/ 0', '0 ./a.txt 6', '0 ./sub/b.bin 70000', '0 ./empty 0', '0 ./sparse 589832', '0 ./sub/D60/N60 10'].sort(),
    );
    for (const size of [3, 511, 512, 513, 4096]) {
      const { framing, entries } = follow(tar, size);
      expect({ size, entries: names(entries), problem: framing.problemAtEnd(), complete: framing.complete }).toEqual({
        size,
        entries: expected,
        problem: undefined,
        complete: true,
      });
    }
  });

  it("reads GNU's old sparse entries, sparse map blocks included", () => {
    const { framing, entries } = follow(archive('gnu', '--sparse'), 999);
    expect(entries.find((e) => e.name === './sparse')).toMatchObject({ type: 'S' });
    expect(framing.problemAtEnd()).toBeUndefined();
  });

  it('names the entry a stream broke off in, and how much of it came', () => {
    const tar = archive('ustar');
    const { entries } = follow(tar, tar.length);
    const big = entries.find((e) => e.name === './sub/b.bin')!;
    const cut = follow(tar.subarray(0, big.end - Math.ceil(70_000 / 512) * 512 + 1000), 300).framing;
    expect(cut.current?.name).toBe('./sub/b.bin');
    expect(cut.problemAtEnd()).toBe('entry "./sub/b.bin" ended after 1000 of its 70000 bytes');
    // At an entry boundary, without the end-of-archive blocks; inside a header.
    expect(follow(tar.subarray(0, big.end), 512).framing.problemAtEnd()).toMatch(
      /^the archive ended without its end-of-archive blocks after entry "\.\/sub\/b\.bin"/,
    );
    expect(follow(tar.subarray(0, big.end + 100), 512).framing.problemAtEnd()).toMatch(/^the archive ended inside a header/);
    expect(follow(Buffer.alloc(0), 1).framing.problemAtEnd()).toMatch(/without its end-of-archive blocks, after 0 bytes/);
  });

  it('refuses bytes that are not tar framing: a header with a wrong checksum, a bad size', () => {
    const tar = archive('ustar');
    expect(() => follow(Buffer.from('this is not a tar archive'.repeat(100)), 100)).toThrow(/not a tar archive: the header at byte 0 has a wrong checksum/);
    const bad = Buffer.from(tar);
    bad[5] ^= 1;
    expect(() => follow(bad, 512)).toThrow(TarFramingError);
    const badSize = Buffer.from(tar);
    badSize.write('9z\0', 124, 'latin1');
    rechecksum(badSize.subarray(0, 512));
    expect(() => follow(badSize, 512)).toThrow(/the tar header at byte 0 has a bad size field/);
  });

  it("reads GNU's base-256 size field", () => {
    const tar = Buffer.from(archive('ustar'));
    const { entries } = follow(tar, tar.length);
    const a = entries.find((e) => e.name === './a.txt')!;
    const h = tar.subarray(a.start, a.start + 512);
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h[135] = 6; // the same 6 bytes, written as base-256
    rechecksum(h);
    const again = follow(tar, 1000);
    expect(again.entries.find((e) => e.name === './a.txt')?.size).toBe(6);
    expect(again.framing.problemAtEnd()).toBeUndefined();
  });

  it('lets its caller refuse an entry before any of its content; the boundary is where the entry (its PAX record included) began', () => {
    const tar = archive('pax');
    const seen = follow(tar, tar.length).entries;
    const target = seen.find((e) => e.name.endsWith('n'.repeat(60)))!;
    const framing = new TarFraming((e) => {
      if (e.name === target.name) throw new TarFramingError(`refused ${e.name}`, e);
    });
    let err: unknown;
    try {
      follow(tar, 333, framing);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TarFramingError);
    expect((err as TarFramingError).entry?.start).toBe(target.start);
    expect(framing.boundary).toBe(target.start);
    expect(framing.settled).toBe(target.start); // nothing of a refused entry may be passed on
    // PAX records before the header: the entry starts at the record, a block or more before its header.
    expect(target.end - target.start).toBeGreaterThan(512 + 512);
  });
});
