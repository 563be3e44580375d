import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoalescingSink } from '../src/executor/docker/coalescing-sink';
import { FrameDemuxer } from '../src/executor/docker/frame-demuxer';
import { OutputLog, SessionFiles, TailBudget, TeeWriter, encodePlain } from '../src/exec/output';
import { median } from './stats';

/**
 * The server's output path alone, in this process, for A/B of a hot-path change on a busy machine
 * (no Docker, no gRPC, no other process): Docker-framed output (4 KiB frames in 64 KiB socket reads,
 * 8 reads per event-loop turn) → FrameDemuxer → CoalescingSink → TeeWriter → OutputLog → SessionFiles
 * (real files in the temp dir), and one plain client's wire message per chunk. Prints this process's
 * CPU-seconds per GiB with the pieces path (OutputSink.writeParts: one copy per byte) on and off,
 * alternating, medians of `reps`:
 *   node dist/bench/hot-path.js [MiB=256] [reps=5]
 */
const FRAME = 4096;
const READ = 64 * 1024;

function once(totalBytes: number, pieces: boolean): number {
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-hot-path-'));
  const files = SessionFiles.create(join(dir, 'sessions', 'bench'), {});
  const log = new OutputLog(files, new TailBudget(8 << 20, 8 << 20));
  const tee = new TeeWriter(log);
  const sink = new CoalescingSink(tee);
  if (!pieces) {
    // As before writeParts existed: every join is a Buffer.concat.
    (tee as { writeParts?: unknown }).writeParts = undefined;
    (sink as { writeParts?: unknown }).writeParts = undefined;
  }
  let sent = 0;
  tee.addListener({
    onRecorded: () => {
      while (sent < log.lastSequence) {
        const c = log.get(++sent);
        if (!(c instanceof Promise)) c.plainMessage ??= encodePlain(c.stream, c.data);
      }
    },
  });
  const demux = new FrameDemuxer(sink);
  const frame = Buffer.alloc(8 + FRAME, 0x30);
  frame[0] = 1;
  frame.writeUInt32BE(FRAME, 4);
  const perRead = Math.floor(READ / frame.length);
  const u0 = process.cpuUsage();
  let bytes = 0;
  try {
    while (bytes < totalBytes) {
      for (let r = 0; r < 8; r++) {
        const buf = Buffer.allocUnsafe(perRead * frame.length);
        for (let i = 0; i < perRead; i++) frame.copy(buf, i * frame.length);
        demux.push(buf);
        bytes += perRead * FRAME;
      }
      sink.flush();
    }
  } finally {
    files.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / 1e6 / (bytes / 1024 ** 3);
}

function main(): void {
  const mib = Number(process.argv[2] ?? 256);
  const reps = Number(process.argv[3] ?? 5);
  const res: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let i = 0; i < reps; i++) for (const v of i % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) res[v].push(once(mib * 1024 * 1024, v === 'on'));
  for (const v of ['off', 'on'] as const) {
    process.stdout.write(`pieces ${v.padEnd(3)}: CPU s per GiB ${res[v].map((x) => x.toFixed(2)).join(' ')}  median ${median(res[v]).toFixed(2)}\n`);
  }
}

if (require.main === module) main();
