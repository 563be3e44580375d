/**
 * Files in and out (issue 13): a file of N bytes (default 1 GiB) through CopyTo into a running managed
 * container and back out through CopyFrom, by our client against the built service (a child process).
 * Checks byte-exactness by sha256 (the generated content's, `sha256sum` inside the container's, and
 * the CopyFrom tar entry's) and reports each direction's throughput and the service's RSS growth (peak
 * during the transfer minus RSS before it: clear_refs + VmHWM and VmRSS sampled every 50 ms).
 *
 *   npm run bench:copy-files [-- --bytes=1G --chunk=16K --node-args="--max-semi-space-size=1"]
 * (--chunk: tar bytes per CopyTo message; --node-args: extra flags of the service's node)
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExecClient, FileClient, GRPCConnectionManager } from '@exec-stream/client';
import { fmtBytes, parseBytes } from './config';
import { PeakRss, readMemory, startServer } from './server-process';
import { generatedTar } from '../test/support/tar';

const BLOCK = 512;
const IMAGE = process.env.EXEC_BASE_IMAGE ?? 'exec-stream/busybox:latest';
const log = (m: string) => process.stderr.write(`[bench:copy-files] ${m}\n`);

/** The sha256 of the first regular file of a tar stream of one file (PAX headers skipped). */
class FirstFileSha extends Writable {
  private pending = Buffer.alloc(0);
  private left = -1; // content bytes still to come; -1 = expecting a header
  private skip = 0;
  private hash = createHash('sha256');
  sha = '';
  size = 0;
  override _write(chunk: Buffer, _e: string, done: () => void): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length) {
      if (this.skip) {
        const n = Math.min(this.skip, buf.length);
        buf = buf.subarray(n);
        this.skip -= n;
      } else if (this.left > 0) {
        const n = Math.min(this.left, buf.length);
        if (!this.sha) this.hash.update(buf.subarray(0, n));
        buf = buf.subarray(n);
        this.left -= n;
        if (this.left === 0) {
          this.skip = (BLOCK - (this.size % BLOCK)) % BLOCK;
          if (!this.sha) this.sha = this.hash.digest('hex');
        }
      } else {
        if (buf.length < BLOCK) break;
        const h = buf.subarray(0, BLOCK);
        buf = buf.subarray(BLOCK);
        if (h.every((b) => b === 0)) continue;
        const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
        const type = String.fromCharCode(h[156]);
        if (type === '0' || type === '\0') {
          if (!this.sha) this.size = size;
          this.left = size;
          if (size === 0) this.left = -1;
        } else this.skip = size + ((BLOCK - (size % BLOCK)) % BLOCK);
      }
    }
    this.pending = Buffer.from(buf);
    done();
  }
}

async function main(): Promise<void> {
  let bytes = parseBytes('1G');
  let chunkBytes: number | undefined;
  let nodeArgs: string[] = [];
  for (const a of process.argv.slice(2)) {
    const [k, v = ''] = a.replace(/^--/, '').split(/=(.*)/s);
    if (k === 'bytes') bytes = parseBytes(v);
    else if (k === 'chunk') chunkBytes = parseBytes(v);
    else if (k === 'node-args') nodeArgs = v.split(' ').filter(Boolean);
    else throw new Error(`unknown option ${a}`);
  }
  const server = await startServer({ nodeArgs });
  const conn = new GRPCConnectionManager({ address: server.address });
  const exec = new ExecClient(conn);
  const files = new FileClient(conn);
  let containerId = '';
  try {
    const holder = exec.run(IMAGE, { command: ['sleep', '3600'] });
    containerId = (await holder.ready).containerId;
    const inContainer = async (script: string) => {
      const r = await exec.exec(containerId, { command: ['sh', '-c', script] }).collect();
      if (r.exitCode !== 0) throw new Error(`${script}: exit ${r.exitCode}: ${r.stderr.toString()}`);
      return r.stdout.toString();
    };
    // Warm-up: one small copy each way, so that the baseline has every code path loaded.
    await files.copyTo(containerId, '/tmp', generatedTar('payload.bin', 1 << 20).tar);
    await pipeline((await files.copyFrom(containerId, '/tmp/payload.bin')).tar, new FirstFileSha());

    const before = readMemory(server.pid)!.rss / 1024;
    let peak = new PeakRss(server.pid);
    const source = generatedTar('payload.bin', bytes);
    let t = performance.now();
    await files.copyTo(containerId, '/tmp', source.tar, { chunkBytes });
    const inSeconds = (performance.now() - t) / 1000;
    const inPeak = peak.stop();
    const inside = (await inContainer('sha256sum /tmp/payload.bin')).split(' ')[0];
    if (inside !== source.sha256()) throw new Error(`CopyTo: sha256 in the container ${inside} != ${source.sha256()}`);

    const beforeOut = readMemory(server.pid)!.rss / 1024;
    peak = new PeakRss(server.pid);
    t = performance.now();
    const { stat, tar } = await files.copyFrom(containerId, '/tmp/payload.bin');
    const digest = new FirstFileSha();
    await pipeline(tar, digest);
    const outSeconds = (performance.now() - t) / 1000;
    const outPeak = peak.stop();
    if (digest.sha !== source.sha256() || digest.size !== bytes || stat.size !== bytes) {
      throw new Error(`CopyFrom: sha256 ${digest.sha} size ${digest.size} (stat ${stat.size}) != ${source.sha256()} ${bytes}`);
    }
    const mib = bytes / 1048576;
    const rows = [
      ['CopyTo', inSeconds, inPeak - before, before],
      ['CopyFrom', outSeconds, outPeak - beforeOut, beforeOut],
    ] as const;
    log(`${fmtBytes(bytes)} each way, sha256 equal (${source.sha256().slice(0, 16)}…)`);
    for (const [name, s, growth, base] of rows) {
      log(`${name.padEnd(8)} ${s.toFixed(1)} s  ${(mib / s).toFixed(0)} MiB/s  server RSS growth ${growth.toFixed(1)} MiB (from ${base.toFixed(0)} MiB)`);
    }
    process.stdout.write(
      JSON.stringify({
        bytes,
        sha256: source.sha256(),
        rows: rows.map(([name, s, growth, base]) => ({ name, seconds: s, mibPerSecond: mib / s, rssGrowthMiB: growth, rssBeforeMiB: base })),
      }) + '\n',
    );
  } finally {
    if (containerId)
      await exec
        .exec(containerId, { command: ['kill', '1'] })
        .collect()
        .catch(() => undefined);
    conn.close();
    await server.stop();
  }
}

main().catch((err) => {
  log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
