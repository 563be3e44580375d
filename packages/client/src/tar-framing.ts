const BLOCK = 512;
/** The most bytes of a PAX or GNU long-name record kept to read its fields. */
const META_MAX_BYTES = 1 << 20;
/** Entry types whose header carries no content, whatever its size field says (as Go's archive/tar reads them). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

/** One tar entry as its header (with any PAX or GNU long-name record before it) describes it. */
export interface TarEntryHeader {
  /** The entry's path in the archive. */
  name: string;
  /** The type flag: '0' a file, '5' a directory, '2' a symlink, '1' a hard link, '3' / '4' a char / block device, '6' a FIFO. */
  type: string;
  /** Content bytes that follow the header. */
  size: number;
  /** Where the entry starts in the stream (its first header block, PAX and long-name records included). */
  start: number;
  /** Where its content ends, padding included: the next entry starts there. */
  end: number;
}

/** The bytes are not tar framing (a bad header), or an entry was refused by the caller's check. */
export class TarFramingError extends Error {
  constructor(
    message: string,
    /** The entry concerned, when there is one. */
    readonly entry?: TarEntryHeader,
  ) {
    super(message);
    this.name = 'TarFramingError';
  }
}

const ZERO = Buffer.alloc(BLOCK);

/**
 * Follows a tar stream's framing as it passes by, holding at most one header block: each header's
 * checksum, how many content bytes it announces and whether they all came, and the end-of-archive
 * blocks. `onEntry` sees each entry's header before any of its content and may refuse it by throwing.
 * A copy is whole only when `problemAtEnd()` says nothing once the stream has ended.
 */
export class TarFraming {
  /** Bytes pushed so far. */
  offset = 0;
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private left = 0; // content bytes of the current entry still to come
  private pad = 0;
  private extensionBlocks = false; // GNU old sparse: extension blocks follow the header
  private zeroBlocks = 0;
  private ended = false;
  private entryStart = -1;
  private accepted = false; // the header of the entry at entryStart passed onEntry
  private meta?: { type: string; parts: Buffer[] };
  private next: { path?: string; size?: number } = {};
  private entry?: TarEntryHeader;

  constructor(private readonly onEntry?: (entry: TarEntryHeader) => void) {}

  /** The end-of-archive blocks have passed (what follows is padding, ignored). */
  get complete(): boolean {
    return this.ended;
  }

  /** The entry whose header has passed and whose content has not all come yet. */
  get current(): TarEntryHeader | undefined {
    return !this.meta && (this.left > 0 || this.pad > 0 || this.extensionBlocks) ? this.entry : undefined;
  }

  /** Where the entry being read started (its first header block); the stream is cut cleanly before it. */
  get boundary(): number {
    return this.entryStart >= 0 ? this.entryStart : this.offset - this.headerFill;
  }

  /**
   * The bytes before this offset belong to entries whose header `onEntry` has accepted (or to the
   * end-of-archive blocks); a header block or record still being read, or not accepted, lies after it.
   */
  get settled(): number {
    return this.entryStart >= 0 && !this.accepted ? this.entryStart : this.offset - this.headerFill;
  }

  /** Between two entries: no header, record or content is part-way. */
  get atBoundary(): boolean {
    return this.entryStart < 0 && this.headerFill === 0;
  }

  /** Takes the next bytes of the stream; throws TarFramingError at the first that is not tar framing. */
  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    while (at < buf.length) {
      if (this.ended) {
        this.offset += buf.length - at;
        return;
      }
      if (this.left > 0) {
        const n = Math.min(this.left, buf.length - at);
        if (this.meta) this.keepMeta(buf.subarray(at, at + n));
        this.left -= n;
        this.offset += n;
        at += n;
        if (this.left === 0 && this.pad === 0) this.contentDone();
        continue;
      }
      if (this.pad > 0) {
        const n = Math.min(this.pad, buf.length - at);
        this.pad -= n;
        this.offset += n;
        at += n;
        if (this.pad === 0) this.contentDone();
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, buf.length - at);
      buf.copy(this.header, this.headerFill, at, at + n);
      this.headerFill += n;
      this.offset += n;
      at += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.block(this.offset - BLOCK);
      }
    }
  }

  /**
   * Why the stream, now ended, is not a whole archive (naming the entry it broke off in), or undefined
   * when it is. An archive cut at an entry boundary without its end-of-archive blocks is not whole either.
   */
  problemAtEnd(): string | undefined {
    if (this.ended) return undefined;
    const entry = this.current;
    if (entry && this.left > 0) return `entry ${quoteEntryName(entry.name)} ended after ${entry.size - this.left} of its ${entry.size} bytes`;
    if (entry) return `the archive ended inside entry ${quoteEntryName(entry.name)}'s padding or sparse map`;
    if (this.headerFill || this.left || this.pad || this.meta) return `the archive ended inside a header, after ${this.offset} bytes`;
    const last = this.entry ? ` after entry ${quoteEntryName(this.entry.name)}` : '';
    return `the archive ended without its end-of-archive blocks${last}, after ${this.offset} bytes`;
  }

  private block(at: number): void {
    const h = this.header;
    if (this.extensionBlocks) {
      this.extensionBlocks = h[504] !== 0;
      if (!this.extensionBlocks && !this.left) this.contentDone();
      return;
    }
    if (h.equals(ZERO)) {
      if (this.entryStart >= 0) throw new TarFramingError(`a record at byte ${this.entryStart} is followed by no entry`);
      if (++this.zeroBlocks === 2) this.ended = true;
      return;
    }
    this.zeroBlocks = 0;
    if (this.entryStart < 0) {
      this.entryStart = at;
      this.accepted = false;
    }
    if (!checksumOk(h)) throw new TarFramingError(`the bytes are not a tar archive: the header at byte ${at} has a wrong checksum`);
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156]);
    const size = readNumber(h, 124, 12);
    if (size === undefined) throw new TarFramingError(`the tar header at byte ${at} has a bad size field`);
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > META_MAX_BYTES) throw new TarFramingError(`the tar record at byte ${at} is ${size} bytes (at most ${META_MAX_BYTES})`);
      this.meta = { type, parts: [] };
      this.left = size;
      this.pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (!size) this.contentDone();
      return;
    }
    const name = this.next.path ?? headerName(h);
    const contentBytes = HEADER_ONLY.has(type) ? 0 : (this.next.size ?? size);
    this.next = {};
    const start = this.entryStart;
    const end = at + BLOCK + Math.ceil(contentBytes / BLOCK) * BLOCK;
    this.entry = { name, type, size: contentBytes, start, end };
    this.onEntry?.(this.entry);
    this.accepted = true;
    this.left = contentBytes;
    this.pad = (BLOCK - (contentBytes % BLOCK)) % BLOCK;
    // GNU's old sparse format: when isextended is set, sparse-map blocks come before the content.
    this.extensionBlocks = type === 'S' && h[482] !== 0;
    if (!this.extensionBlocks && !contentBytes) this.contentDone();
  }

  private keepMeta(piece: Buffer): void {
    this.meta!.parts.push(Buffer.from(piece));
  }

  /** An entry's (or a record's) content and padding have all passed. */
  private contentDone(): void {
    if (this.meta) return this.readMeta();
    this.entryStart = -1;
  }

  /** A PAX ('x') or GNU long-name ('L') record is complete: its fields apply to the next header. */
  private readMeta(): void {
    const { type, parts } = this.meta!;
    this.meta = undefined;
    const text = Buffer.concat(parts).toString('utf8');
    if (type === 'L') this.next.path = text.replace(/\0.*$/s, '');
    if (type !== 'x') return;
    for (const m of text.matchAll(/(\d+) ([^=\n]+)=([^\n]*)\n/g)) {
      if (m[2] === 'path') this.next.path = m[3];
      if (m[2] === 'size') {
        const n = Number(m[3]);
        if (!/^\d+$/.test(m[3]) || !Number.isSafeInteger(n)) throw new TarFramingError(`a PAX record gives a bad size ${quoteEntryName(m[3])}`);
        this.next.size = n;
      }
    }
  }
}

function checksumOk(h: Buffer): boolean {
  const stored = readNumber(h, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** An octal field (NUL- or space-terminated), or GNU's base-256 form (high bit of the first byte set). */
function readNumber(h: Buffer, from: number, len: number): number | undefined {
  if (h[from] & 0x80) {
    if (h[from] !== 0x80) return undefined; // negative, or past 2^56
    let n = 0;
    for (let i = from + 1; i < from + len; i++) n = n * 256 + h[i];
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const text = h
    .subarray(from, from + len)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[ ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  const n = parseInt(text, 8);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** ustar's prefix/name, or the name alone (GNU and v7 headers). */
function headerName(h: Buffer): string {
  const str = (from: number, len: number) => {
    const field = h.subarray(from, from + len);
    const nul = field.indexOf(0);
    return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
  };
  const ustar = h.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = ustar ? str(345, 155) : '';
  const name = str(0, 100);
  return prefix ? `${prefix}/${name}` : name;
}

/** A name as messages quote it: JSON-quoted, at most 32 characters of it (docs/PROTOCOL.md, "Errors"). */
export function quoteEntryName(name: string): string {
  return JSON.stringify(name.length > 32 ? `${name.slice(0, 32)}…` : name);
}
