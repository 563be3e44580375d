import { verifyAuditTrail } from '@exec-stream/client';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ExecConfig } from '../common/config/exec-config';
import { HealthState } from '../common/health-state';
import { createRootLogger } from '../common/logger';
import { readAuditTrail, type AuditItem } from './audit-reader';
import { AuditTrail, auditDir } from './audit-trail';

const log = createRootLogger('silent');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function config(env: Record<string, string> = {}, dataDir?: string): ExecConfig {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'audit-trail-spec-'));
  dirs.push(dir);
  return loadConfig({ EXEC_DATA_DIR: dir, EXEC_REPLICA_ID: 'r1', EXEC_AUDIT_SEGMENT_BYTES: String(16 * 1024), EXEC_AUDIT_MAX_BYTES: String(1 << 20), ...env });
}

function opened(c: ExecConfig, health = new HealthState()): AuditTrail {
  const t = new AuditTrail(c, log, health);
  t.open();
  return t;
}

const pad = 'x'.repeat(400);
const run = (t: AuditTrail, i: number) =>
  t.record({ action: 'run', caller: { token: 'ci' }, session_id: `s${i}`, request: { image: 'img', command: ['echo', pad] } });

async function all(t: AuditTrail, options: Parameters<typeof readAuditTrail>[2] = { follow: false, signal: new AbortController().signal }, filter = {}) {
  const out: AuditItem[] = [];
  for await (const e of readAuditTrail(t, filter, options)) out.push(e);
  return out;
}

describe('AuditTrail', () => {
  it('chains every event, rotates into anchored segments, and a restart continues the same chain', () => {
    const c = config();
    const t = opened(c);
    for (let i = 0; i < 100; i++) run(t, i);
    t.close();
    const segments = readdirSync(auditDir(c.EXEC_DATA_DIR)).filter((f) => f.startsWith('trail-'));
    expect(segments.length).toBeGreaterThan(2);
    const again = opened(c);
    run(again, 100);
    again.close();
    // service_start, 100 runs, service_stop, service_start, 1 run, service_stop
    const v = verifyAuditTrail(auditDir(c.EXEC_DATA_DIR));
    expect(v.break).toBeUndefined();
    expect(v).toMatchObject({ events: 105, firstSeq: 1, lastSeq: 105 });
  });

  it('names an edited and a deleted event, and a segment deleted outside retention', () => {
    const c = config();
    const t = opened(c);
    for (let i = 0; i < 60; i++) run(t, i);
    t.close();
    const dir = auditDir(c.EXEC_DATA_DIR);
    const [first, second] = readdirSync(dir).filter((f) => f.startsWith('trail-'));
    const file = join(dir, first);
    const original = readFileSync(file, 'utf8');
    const lines = original.split('\n');
    writeFileSync(file, [...lines.slice(0, 4), lines[4].replace('"token":"ci"', '"token":"cj"'), ...lines.slice(5)].join('\n'));
    expect(verifyAuditTrail(dir).break).toMatchObject({
      file: first,
      line: 5,
      seq: 5,
      problem: 'event seq 5 was changed: its hash does not match its content',
    });
    writeFileSync(file, [...lines.slice(0, 4), ...lines.slice(5)].join('\n'));
    expect(verifyAuditTrail(dir).break).toMatchObject({ file: first, line: 5, seq: 6, problem: 'event seq 6 follows seq 4: event seq 5 is missing (deleted)' });
    writeFileSync(file, original);
    rmSync(join(dir, second));
    expect(verifyAuditTrail(dir).break).toMatchObject({ file: second, line: 0 });
    expect(verifyAuditTrail(dir).break?.problem).toMatch(/is missing, and anchors.jsonl does not say retention removed it/);
  });

  it('removes segments only once past their own retention, recording each removal, and the rest still verifies', () => {
    const c = config({ EXEC_AUDIT_RETENTION_SECONDS: '60' });
    const t = opened(c);
    for (let i = 0; i < 60; i++) run(t, i);
    const before = t.segmentList.length;
    expect(t.sweep(Date.now() + 30_000)).toBe(0);
    expect(t.sweep(Date.now() + 61_000)).toBe(before - 1);
    // The current segment stays (rotated, since its first event is past retention too: it goes at a later sweep).
    expect(t.segmentList.length).toBe(2);
    run(t, 60);
    t.close();
    const v = verifyAuditTrail(auditDir(c.EXEC_DATA_DIR));
    expect(v.break).toBeUndefined();
    expect(v.removedSegments).toBe(before - 1);
    expect(readFileSync(join(auditDir(c.EXEC_DATA_DIR), 'anchors.jsonl'), 'utf8')).toContain('"kind":"removed"');
  });

  it('at its size limit with nothing past retention: RESOURCE_EXHAUSTED naming the trail, health NOT_SERVING, the kept room still takes events; back once the oldest expire', () => {
    const c = config({ EXEC_AUDIT_MAX_BYTES: String(64 * 1024), EXEC_AUDIT_RETENTION_SECONDS: '60' });
    const health = new HealthState();
    const t = opened(c, health);
    let i = 0;
    while (
      !(() => {
        try {
          t.assertWritable();
          return false;
        } catch {
          return true;
        }
      })()
    )
      run(t, i++);
    expect(() => t.assertWritable()).toThrow(
      expect.objectContaining({
        kind: 'exhausted',
        message: expect.stringContaining(`the audit trail ${auditDir(c.EXEC_DATA_DIR)} is at its limit (EXEC_AUDIT_MAX_BYTES=65536)`),
        detail: { reason: 'AUDIT_TRAIL_FULL', metadata: { dir: auditDir(c.EXEC_DATA_DIR), setting: 'EXEC_AUDIT_MAX_BYTES' } },
      }),
    );
    expect(health.serving).toBe(false);
    expect(health.reasons[0]).toContain('the audit trail');
    expect(t.diskBytes).toBeLessThanOrEqual(64 * 1024);
    expect(t.record({ action: 'session_end', session_id: 'still-recorded' })).toBeDefined();
    t.sweep(Date.now() + 61_000);
    (t as unknown as { restoreRoom(): boolean }).restoreRoom();
    expect(() => t.assertWritable()).not.toThrow();
    expect(health.serving).toBe(true);
    run(t, i);
    t.close();
    expect(verifyAuditTrail(auditDir(c.EXEC_DATA_DIR)).break).toBeUndefined();
  });

  it('a damaged end is left for verify to name, and writing goes on in a new anchored segment', () => {
    const c = config();
    const t = opened(c);
    run(t, 1);
    t.close();
    const dir = auditDir(c.EXEC_DATA_DIR);
    const [seg] = readdirSync(dir).filter((f) => f.startsWith('trail-'));
    const used = readFileSync(join(dir, seg)).indexOf(0);
    truncateSync(join(dir, seg), used);
    appendFileSync(join(dir, seg), '{"seq":4,"torn');
    const again = opened(c);
    expect(again.headSeq).toBe(4); // service_start, run, service_stop, service_start
    again.close();
    expect(verifyAuditTrail(dir).break).toMatchObject({ file: seg, problem: expect.stringContaining('incomplete') });
  });
});

describe('readAuditTrail', () => {
  it('gives the held events across segments after a resume point, filtered, then caught_up; with follow, new ones as written', async () => {
    const c = config();
    const t = opened(c);
    for (let i = 0; i < 40; i++) run(t, i);
    t.record({ action: 'pause', caller: { subject: 'CN=ops' }, container_id: 'abc123' });
    const held = await all(t, { afterSeq: 10, follow: false, signal: new AbortController().signal });
    expect(held.filter((e) => e !== 'caught_up').map((e) => (e as { seq: number }).seq)).toEqual(Array.from({ length: 32 }, (_, k) => k + 11));
    expect(held[held.length - 1]).toBe('caught_up');
    expect((await all(t, undefined, { caller: 'CN=ops' })).map((e) => (e === 'caught_up' ? e : e.action))).toEqual(['pause', 'caught_up']);
    expect((await all(t, undefined, { containerId: 'abc' })).length).toBe(2);

    const ac = new AbortController();
    const got: AuditItem[] = [];
    const following = (async () => {
      for await (const e of readAuditTrail(t, { actions: new Set(['resume']) }, { follow: true, signal: ac.signal })) {
        got.push(e);
        if (got.length === 2) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    t.record({ action: 'resume', container_id: 'abc123' });
    await following;
    expect(got.map((e) => (e === 'caught_up' ? e : e.action))).toEqual(['caught_up', 'resume']);
    t.close();
  });
});
