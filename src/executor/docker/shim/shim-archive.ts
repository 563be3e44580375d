const BLOCK = 512;

/** One ustar entry (header, content, padding): a directory when `data` is undefined. */
function entry(name: string, mode: number, data?: Buffer): Buffer[] {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(mode.toString(8).padStart(7, '0') + '\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write((data?.length ?? 0).toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(data ? '0' : '5', 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return data ? [h, data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)] : [h];
}

/**
 * The archive unpacked into a new container's record volume before it starts: the shim binary and
 * the records' folders, writable by whatever user the process (or an exec) runs as.
 */
export function shimUploadTar(binaryName: string, binary: Buffer, dirs: string[]): Buffer {
  return Buffer.concat([...entry(binaryName, 0o755, binary), ...dirs.flatMap((d) => entry(`${d}/`, 0o1777)), Buffer.alloc(2 * BLOCK)]);
}

/** Receives the regular files of a tar stream, in archive order, in pieces. */
export interface TarFileHandler {
  file(name: string, size: number): void;
  data(piece: Buffer): void;
}

function octal(field: Buffer): number {
  // GNU base-256 for sizes past 8 GiB: the record's segments never come near that.
  if (field[0] & 0x80) throw new Error('tar size in base-256 is not supported');
  const text = field.toString('ascii').replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

/**
 * Reads a tar stream as it arrives (Docker's GET /archive of the record folder), passing each regular
 * file's content on without holding more than one header. PAX headers give `path` and `size`.
 */
export class TarFileReader {
  private head = Buffer.alloc(BLOCK);
  private headFill = 0;
  private left = 0;
  private pad = 0;
  private pax?: Buffer[];
  private paxOverride: { path?: string; size?: number } = {};
  private regular = false;
  /** True once the end-of-archive block was read. */
  done = false;

  constructor(private readonly handler: TarFileHandler) {}

  /** True when the stream ended on an entry boundary. */
  get complete(): boolean {
    return this.left === 0 && this.pad === 0 && this.headFill === 0;
  }

  push(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length && !this.done) {
      if (this.left > 0) {
        const take = Math.min(this.left, buf.length - pos);
        const piece = buf.subarray(pos, pos + take);
        if (this.pax) this.pax.push(Buffer.from(piece));
        else if (this.regular) this.handler.data(piece);
        this.left -= take;
        pos += take;
        if (this.left === 0 && this.pax) this.readPax();
        continue;
      }
      if (this.pad > 0) {
        const take = Math.min(this.pad, buf.length - pos);
        this.pad -= take;
        pos += take;
        continue;
      }
      const take = Math.min(BLOCK - this.headFill, buf.length - pos);
      buf.copy(this.head, this.headFill, pos, pos + take);
      this.headFill += take;
      pos += take;
      if (this.headFill < BLOCK) break;
      this.headFill = 0;
      this.header();
    }
  }

  private header(): void {
    if (this.head.every((b) => b === 0)) {
      this.done = true;
      return;
    }
    const type = String.fromCharCode(this.head[156] || 0x30);
    const prefix = this.head.toString('utf8', 345, 500).replace(/\0.*$/s, '');
    const base = this.head.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const size = this.paxOverride.size ?? octal(this.head.subarray(124, 136));
    const name = this.paxOverride.path ?? (prefix ? `${prefix}/${base}` : base);
    this.left = size;
    this.pad = (BLOCK - (size % BLOCK)) % BLOCK;
    this.regular = false;
    if (type === 'x') {
      this.pax = [];
      if (size === 0) this.readPax();
      return;
    }
    this.paxOverride = {};
    if (type === '0' || type === '\0' || type === '7') {
      this.regular = true;
      this.handler.file(name, size);
    }
  }

  private readPax(): void {
    const text = Buffer.concat(this.pax ?? []).toString('utf8');
    this.pax = undefined;
    for (const line of text.split('\n')) {
      const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
      if (m?.[1] === 'path') this.paxOverride.path = m[2];
      if (m?.[1] === 'size') this.paxOverride.size = Number(m[2]);
    }
  }
}
