import { TarFraming, type TarEntryHeader } from '@exec-stream/client/wire';
import { gzipSync } from 'node:zlib';
import { ExecError } from '../../common/errors';
import { TarIntake } from './tar-intake';

const BLOCK = 512;

/** A ustar header block (type '0' a file, '3' / '4' devices, '5' a directory). */
function header(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** One entry: its header, content and padding. */
const entry = (name: string, content: Buffer | string, type = '0') => {
  const data = Buffer.from(content);
  return Buffer.concat([header(name, data.length, type), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]);
};
const END = Buffer.alloc(2 * BLOCK);

/** Feeds `chunks` (then end, unless `end` is false) and reads what Docker would get: its entries and whether it is whole. */
async function through(chunks: Buffer[], options: { maxBytes?: number; end?: boolean; failAfter?: ExecError } = {}) {
  const intake = new TarIntake({ maxBytes: options.maxBytes ?? 1 << 30, bufferBytes: 1 << 20 });
  const out: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    intake.tar.on('data', (b: Buffer) => out.push(b));
    intake.tar.on('end', resolve);
  });
  for (const c of chunks) intake.write(c);
  if (options.failAfter) intake.fail(options.failAfter);
  else if (options.end !== false) intake.end();
  await done;
  const docker = Buffer.concat(out);
  const entries: TarEntryHeader[] = [];
  const framing = new TarFraming((e) => entries.push(e));
  framing.push(docker);
  return { intake, docker, names: entries.map((e) => e.name), problem: framing.problemAtEnd() };
}

describe('TarIntake', () => {
  it('passes a plain tar through unchanged, in any pieces', async () => {
    const tar = Buffer.concat([entry('a.txt', 'alpha\n'), entry('d/', '', '5'), entry('d/b.bin', Buffer.alloc(3000, 7)), END]);
    const pieces = [];
    for (let at = 0; at < tar.length; at += 333) pieces.push(tar.subarray(at, at + 333));
    const r = await through(pieces);
    expect(r.docker.equals(tar)).toBe(true);
    expect({ failure: r.intake.failure, received: r.intake.received, unpacked: r.intake.unpacked }).toEqual({
      failure: undefined,
      received: tar.length,
      unpacked: tar.length,
    });
  });

  it('unpacks gzip on the way: Docker gets the plain tar, the limit counts unpacked bytes', async () => {
    const tar = Buffer.concat([entry('a.txt', 'alpha\n'), entry('z.bin', Buffer.alloc(100_000)), END]);
    const gz = gzipSync(tar);
    const r = await through([gz.subarray(0, 3), gz.subarray(3)]);
    expect(r.docker.equals(tar)).toBe(true);
    expect({ received: r.intake.received, unpacked: r.intake.unpacked }).toEqual({ received: gz.length, unpacked: tar.length });
  });

  it('refuses a device entry before any of its bytes: Docker gets the entries before it, whole, and the end-of-archive blocks', async () => {
    const r = await through([Buffer.concat([entry('a.txt', 'alpha\n'), header('null', 0, '3'), entry('b.txt', 'beta\n'), END])]);
    expect(r.names).toEqual(['a.txt']);
    expect(r.problem).toBeUndefined();
    expect({ kind: r.intake.failure?.kind, message: r.intake.failure?.message }).toEqual({
      kind: 'invalid',
      message: 'entry "null" is a char device: containers cannot make device nodes (MKNOD is dropped), so CopyTo refuses them',
    });
    expect(r.intake.partial).toBeUndefined();
  });

  it('refuses the entry that would end past maxBytes at its header, gzip bombs included', async () => {
    const bomb = gzipSync(Buffer.concat([entry('small.txt', 'small\n'), header('bomb.bin', 20 << 20), Buffer.alloc(20 << 20), END]));
    const r = await through([bomb], { maxBytes: 1 << 20 });
    expect(r.names).toEqual(['small.txt']);
    expect(r.problem).toBeUndefined();
    expect(r.intake.failure?.kind).toBe('exhausted');
    expect(r.intake.failure?.message).toMatch(
      /entry "bomb\.bin" \(20971520 bytes\) would end at byte \d+ .*past the 1048576 bytes one CopyTo may unpack \(EXEC_COPY_MAX_BYTES\)/,
    );
  });

  it('refuses bzip2, xz and zstd, and bytes that are not tar', async () => {
    for (const [magic, name] of [
      [[0x42, 0x5a, 0x68, 0x39, 0x31, 0x41], 'bzip2'],
      [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
      [[0x28, 0xb5, 0x2f, 0xfd, 0, 0], 'zstd'],
    ] as const) {
      const r = await through([Buffer.concat([Buffer.from(magic), Buffer.alloc(600)])]);
      expect(r.intake.failure?.message).toBe(`the archive is compressed with ${name}: CopyTo takes a tar, plain or gzip-compressed`);
      expect(r.names).toEqual([]);
    }
    const junk = await through([Buffer.concat([entry('a.txt', 'alpha\n'), Buffer.from('not a tar header'.repeat(40))])]);
    expect(junk.names).toEqual(['a.txt']);
    expect(junk.intake.failure?.message).toMatch(/not a tar archive: the header at byte 1024 has a wrong checksum/);
  });

  it('a tar that ends inside an entry: Docker gets it up to there, and `partial` names that entry', async () => {
    const r = await through([entry('a.txt', 'alpha\n'), header('cut.bin', 10_000), Buffer.alloc(4000, 1)]);
    expect(r.names).toEqual(['a.txt', 'cut.bin']);
    expect(r.problem).toBe('entry "cut.bin" ended after 4000 of its 10000 bytes');
    expect(r.intake.failure?.message).toBe('the tar ends too soon: entry "cut.bin" ended after 4000 of its 10000 bytes');
    expect(r.intake.partial?.name).toBe('cut.bin');
  });

  it('a failure from outside (client gone, too slow) ends the stream inside the entry being written, or cleanly between entries', async () => {
    const gone = new ExecError('aborted', 'client cancelled the copy');
    const inside = await through([entry('a.txt', 'alpha\n'), header('big.bin', 10_000), Buffer.alloc(100)], { failAfter: gone });
    expect({ partial: inside.intake.partial?.name, failure: inside.intake.failure, problem: inside.problem }).toEqual({
      partial: 'big.bin',
      failure: gone,
      problem: 'entry "big.bin" ended after 100 of its 10000 bytes',
    });
    // Between entries, and with half a header sent: cut before it, whole.
    const between = await through([entry('a.txt', 'alpha\n'), header('next.bin', 10).subarray(0, 200)], { failAfter: gone });
    expect({ names: between.names, partial: between.intake.partial, problem: between.problem }).toEqual({
      names: ['a.txt'],
      partial: undefined,
      problem: undefined,
    });
  });

  it('whole entries without the end-of-archive blocks pass, and get them', async () => {
    const r = await through([entry('a.txt', 'alpha\n')]);
    expect({ names: r.names, problem: r.problem, failure: r.intake.failure }).toEqual({ names: ['a.txt'], problem: undefined, failure: undefined });
  });
});
