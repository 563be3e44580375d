import { crc32 } from 'node:zlib';
import { ExecError } from '../../common/errors';
import type { IndexEntry } from './session-files-verify';
import type { SessionFiles } from './session-files';

/** Bytes read per read(2) while checking: runs of adjacent chunks are read together. */
const BLOCK = 1024 * 1024;

/**
 * Checks every chunk's data against the crc in its index record, after a restart, in the background
 * (the server already serves: reads check the crc themselves, so nothing damaged is ever sent; this
 * finds damage early and logs it). Damaged chunks are marked missing: readers report them as a gap.
 * Returns the damaged sequences; rejects when the files cannot be read (never marking a chunk for that).
 */
export async function verifySessionData(files: SessionFiles, entries: ReadonlyArray<IndexEntry | undefined>): Promise<number[]> {
  const bad: number[] = [];
  try {
    await checkChunks(files, entries, bad);
  } finally {
    for (const sequence of bad) files.markMissing(sequence);
  }
  return bad.sort((a, b) => a - b);
}

/**
 * Adds to `bad` each chunk whose data fails its crc or lies past the file's end (a short read). Any other
 * failure to read (no fd left to open the files, an I/O error, the session removed meanwhile) says
 * nothing about the data: it rejects, and what was found before it is still marked.
 */
async function checkChunks(files: SessionFiles, entries: ReadonlyArray<IndexEntry | undefined>, bad: number[]): Promise<void> {
  for (const stream of ['stdout', 'stderr'] as const) {
    // A stream's chunks lie end to end in its file, in sequence order: read them in blocks.
    let block: Buffer = Buffer.alloc(0);
    let blockStart = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (!e || e.stream !== stream) continue;
      if (e.offset < blockStart || e.offset + e.length > blockStart + block.length) {
        blockStart = e.offset;
        try {
          block = await files.readStream(stream, e.offset, Math.max(e.length, Math.min(BLOCK, files.bytes[stream] - e.offset)));
        } catch (err) {
          if (!(err instanceof ExecError && err.kind === 'data_loss')) throw err;
          bad.push(i + 1); // short read: the file is shorter than the index says
          block = Buffer.alloc(0);
          continue;
        }
      }
      const data = block.subarray(e.offset - blockStart, e.offset - blockStart + e.length);
      if (crc32(data) !== e.dataCrc) bad.push(i + 1);
    }
  }
}
