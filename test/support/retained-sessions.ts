import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SessionFiles } from '../../src/exec/output';
import { buildOutcome } from '../../src/exec/session/session-outcome';

/**
 * N finished sessions of `bytes` of output each (4 KiB chunks) in the data dir `dir`, as the service
 * writes them (its own SessionFiles: meta, process, index, output, exit with Outcome), created a second
 * apart and labelled `team=t<i % 10>`, `bench=list-sessions`. Used by bench/list-sessions.ts and by
 * e2e tests (list-sessions, metrics), so it imports neither jest nor bench/.
 */
export function writeSessions(dir: string, n: number, bytes: number): void {
  const chunk = Buffer.alloc(Math.min(4096, Math.max(1, bytes)), 0x61);
  const t0 = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const createdAt = t0 + i * 1000;
    const labels = { team: `t${i % 10}`, bench: 'list-sessions' };
    const files = SessionFiles.create(join(dir, 'sessions', id), {
      version: 1,
      id,
      kind: 'run',
      image: 'bench',
      command: ['true'],
      tty: false,
      createdAt,
      labels,
    });
    for (let left = bytes; left > 0; left -= chunk.length)
      files.append('stdout', left >= chunk.length ? chunk : chunk.subarray(0, left), BigInt(createdAt) * 1_000_000n);
    files.writeProcess({ containerId: randomUUID().replace(/-/g, '').repeat(2), startedAt: createdAt });
    const finishedAt = createdAt + 500;
    const outcome = buildOutcome({ outcome: { exitCode: 0 }, startedAt: createdAt, finishedAt, bytes: files.bytes });
    files.writeExit({ exitCode: 0, finishedAt, outcome });
    files.close();
  }
}
