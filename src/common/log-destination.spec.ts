import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogDestination } from './log-destination';
import { createRootLogger } from './logger';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'log-destination-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LogDestination', () => {
  it('writes each line whole to its fd, as pino made it', () => {
    const fd = openSync(join(dir, 'out'), 'w');
    const log = createRootLogger('info', new LogDestination(fd));
    log.info({ session: 'a' }, 'one');
    log.warn('two');
    closeSync(fd);
    const lines = readFileSync(join(dir, 'out'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.msg, l.level, l.service])).toEqual([
      ['one', 30, 'exec-stream'],
      ['two', 40, 'exec-stream'],
    ]);
  });

  it('drops a line that cannot be written (stdout on a full disk: /dev/full), never throwing, and says so once per reason', () => {
    const full = openSync('/dev/full', 'w');
    const noticeFd = openSync(join(dir, 'notices'), 'w');
    const destination = new LogDestination(full, noticeFd);
    const log = createRootLogger('info', destination);
    try {
      for (let i = 0; i < 5; i++) expect(() => log.info({ i }, 'into a full disk')).not.toThrow();
      expect(destination.dropped).toBe(5);
      closeSync(full); // now EBADF: another reason, said once more
      expect(() => log.error('into a closed fd')).not.toThrow();
      expect(destination.dropped).toBe(6);
    } finally {
      closeSync(noticeFd);
    }
    expect(readFileSync(join(dir, 'notices'), 'utf8')).toBe(
      `exec-stream: log lines to fd ${full} are being dropped (ENOSPC)\nexec-stream: log lines to fd ${full} are being dropped (EBADF)\n`,
    );
  });
});
