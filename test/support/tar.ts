import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';

const BLOCK = 512;

/** A ustar header block: a regular file (size < 8 GiB) unless `type` says otherwise ('3' / '4' char / block device, with `device`). */
export function tarHeader(name: string, size: number, mode = 0o644, type = '0', device?: { major: number; minor: number }): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(mode.toString(8).padStart(7, '0') + '\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii'); // uid
  h.write('0000000\0', 116, 'ascii'); // gid
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write(
    Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0') + '\0',
    136,
    'ascii',
  );
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write(type, 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  if (device) {
    h.write(device.major.toString(8).padStart(7, '0') + '\0', 329, 'ascii');
    h.write(device.minor.toString(8).padStart(7, '0') + '\0', 337, 'ascii');
  }
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/**
 * A tar stream of one file of `size` bytes of pseudo-random content (each MiB differs), generated as
 * it is read; `sha256()` is the content's digest once the stream has been read through.
 */
export function generatedTar(name: string, size: number): { tar: Iterable<Buffer>; sha256: () => string } {
  const hash = createHash('sha256');
  let digest = '';
  const block = randomBytes(1 << 20);
  function* gen() {
    yield tarHeader(name, size);
    for (let at = 0, i = 0; at < size; at += block.length, i++) {
      const piece = Buffer.from(block.subarray(0, Math.min(block.length, size - at)));
      piece.writeUInt32LE(i, 0);
      hash.update(piece);
      yield piece;
    }
    if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
    yield Buffer.alloc(2 * BLOCK);
    digest = hash.digest('hex');
  }
  return { tar: gen(), sha256: () => digest };
}

/** A tar of small files, all in memory: name → content. */
export function smallTar(files: Record<string, Buffer | string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    parts.push(tarHeader(name, data.length), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

export interface TarEntry {
  name: string;
  type: string;
  size: number;
  sha256: string;
}

/**
 * A Writable that reads a tar stream as it arrives and records each entry's name, type, size and
 * content sha256, holding no more than one block of it. PAX extended headers ('x', 'g') are read for
 * `path` and `size`; GNU long names ('L') for the name.
 */
export class TarDigest extends Writable {
  readonly entries: TarEntry[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private left = 0; // content bytes of the current entry still to come
  private pad = 0;
  private hash?: ReturnType<typeof createHash>;
  private meta?: Buffer[]; // the content of a PAX / long-name entry, kept whole (small)
  private metaType = '';
  private next: { path?: string; size?: number } = {};
  private current?: TarEntry;

  override _write(chunk: Buffer, _enc: string, done: (err?: Error) => void): void {
    try {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      let at = 0;
      for (;;) {
        if (this.left > 0) {
          const n = Math.min(this.left, this.buf.length - at);
          if (n === 0) break;
          const piece = this.buf.subarray(at, at + n);
          if (this.meta) this.meta.push(Buffer.from(piece));
          else this.hash!.update(piece);
          at += n;
          this.left -= n;
          if (this.left === 0) this.finishEntry();
          continue;
        }
        if (this.pad > 0) {
          const n = Math.min(this.pad, this.buf.length - at);
          if (n === 0) break;
          at += n;
          this.pad -= n;
          continue;
        }
        if (this.buf.length - at < BLOCK) break;
        const h = this.buf.subarray(at, at + BLOCK);
        at += BLOCK;
        if (h.every((b) => b === 0)) continue; // end-of-archive blocks
        this.startEntry(h);
        if (this.left === 0) this.finishEntry();
      }
      this.buf = Buffer.from(this.buf.subarray(at));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private startEntry(h: Buffer): void {
    const str = (from: number, len: number) =>
      h
        .subarray(from, from + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const type = String.fromCharCode(h[156]) || '0';
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const prefix = str(345, 155);
    const name = this.next.path ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    this.left = this.next.size ?? size;
    if (type === 'x' || type === 'g' || type === 'L') {
      this.left = size;
      this.meta = [];
      this.metaType = type;
    } else {
      this.current = { name, type, size: this.left, sha256: '' };
      this.hash = createHash('sha256');
      this.next = {};
    }
    this.pad = (BLOCK - (this.left % BLOCK)) % BLOCK;
  }

  private finishEntry(): void {
    if (this.meta) {
      const text = Buffer.concat(this.meta).toString('utf8');
      if (this.metaType === 'L') this.next.path = text.replace(/\0.*$/s, '');
      else if (this.metaType === 'x') {
        for (const m of text.matchAll(/\d+ (\w+)=([^\n]*)\n/g)) {
          if (m[1] === 'path') this.next.path = m[2];
          if (m[1] === 'size') this.next.size = Number(m[2]);
        }
      }
      this.meta = undefined;
      return;
    }
    this.current!.sha256 = this.hash!.digest('hex');
    this.entries.push(this.current!);
    this.current = undefined;
  }
}
