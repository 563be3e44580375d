import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecConfig } from '../../common/config/exec-config';
import { HealthState } from '../../common/health-state';
import { DataDirHealth } from './data-dir-health';

const MiB = 1024 * 1024;
const silent = { child: () => silent, info: () => undefined, error: () => undefined, warn: () => undefined } as never;

describe('DataDirHealth.probe', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'data-dir-health-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes and removes its file, and makes no garbage: an idle service probes once a second', () => {
    const health = new DataDirHealth({ EXEC_DATA_DIR: dir } as ExecConfig, silent, new HealthState());
    expect(health.probe()).toBe(true);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 100; i++) expect(health.probe()).toBe(true);
    // 100 probes that each made a 64 KiB Buffer would leave 6.25 MiB of them until a collection.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 * MiB);
    expect(readdirSync(dir)).toEqual([]);
  });
});
