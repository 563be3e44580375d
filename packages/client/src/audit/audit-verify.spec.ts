import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_GENESIS_HASH, AUDIT_SHIPPED_PREFIX, sealAuditLine } from './audit-line';
import { verifyAuditTrail } from './audit-verify';

function chain(n: number): string[] {
  let prev = AUDIT_GENESIS_HASH;
  return Array.from({ length: n }, (_, i) => {
    const { line, hash } = sealAuditLine(JSON.stringify({ seq: i + 1, time: '2026-12-01T00:00:00.000Z', action: 'run', prev_hash: prev }));
    prev = hash;
    return line;
  });
}

describe("verifyAuditTrail on a file of lines (a log shipper's copy)", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'audit-verify-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('checks the audit lines among other log lines, from its first event on', () => {
    const lines = chain(5).map((l) => `${AUDIT_SHIPPED_PREFIX}${l.slice(1)}`);
    const file = join(dir, 'service.log');
    writeFileSync(
      file,
      ['{"level":30,"msg":"exec-stream listening"}', ...lines.slice(1, 3), '{"level":30,"msg":"call ended"}', ...lines.slice(3)].join('\n') + '\n',
    );
    expect(verifyAuditTrail(file)).toMatchObject({ events: 4, firstSeq: 2, lastSeq: 5 });
    expect(verifyAuditTrail(file).break).toBeUndefined();
  });

  it('names an event whose line was rewritten with a new hash: the next one no longer follows it', () => {
    const lines = chain(4);
    const forged = sealAuditLine(JSON.stringify({ seq: 2, time: '2026-12-01T00:00:00.000Z', action: 'exec', prev_hash: JSON.parse(lines[1]).prev_hash })).line;
    const file = join(dir, 'seg');
    writeFileSync(file, [lines[0], forged, lines[2], lines[3]].join('\n') + '\n');
    expect(verifyAuditTrail(file).break).toEqual({
      file: 'seg',
      line: 3,
      seq: 3,
      problem: "event seq 3's prev_hash is not the hash of the event before it: event seq 2 was changed or replaced",
    });
  });
});
