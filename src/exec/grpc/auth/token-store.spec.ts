import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TokenStore } from './token-store';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const entry = (name: string, token: string, scopes: string[]) => ({ name, sha256: sha(token), scopes });

describe('TokenStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-token-store-spec-'));
  const file = join(dir, 'tokens.json');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('knows EXEC_AUTH_TOKEN (all scopes) and the file tokens by name and scopes', () => {
    writeFileSync(file, JSON.stringify([entry('ci', 'ci-token-0123456789', ['read'])]));
    const store = new TokenStore('env-token-0123456789', file);
    expect(store.enabled).toBe(true);
    expect(store.lookup('env-token-0123456789')).toEqual({ name: 'EXEC_AUTH_TOKEN', scopes: new Set(['read', 'run', 'control', 'audit']) });
    expect(store.lookup('ci-token-0123456789')).toEqual({ name: 'ci', scopes: new Set(['read']) });
    expect(store.lookup('ci-token-012345678')).toBeUndefined();
    expect(new TokenStore(undefined, undefined).enabled).toBe(false);
  });

  it('takes a good new file on reload and keeps the previous tokens when the new file is bad or gone, logging why', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    writeFileSync(file, JSON.stringify([entry('old', 'old-token-0123456789', ['run'])]));
    const store = new TokenStore(undefined, file, log);
    writeFileSync(file, JSON.stringify([entry('new', 'new-token-0123456789', ['run'])]));
    store.reload();
    expect(store.lookup('old-token-0123456789')).toBeUndefined();
    expect(store.lookup('new-token-0123456789')?.name).toBe('new');
    writeFileSync(file, '[{"name":"broken"');
    store.reload();
    expect(store.lookup('new-token-0123456789')?.name).toBe('new');
    rmSync(file);
    store.reload();
    store.reload(); // the same problem is logged once
    expect(store.lookup('new-token-0123456789')?.name).toBe('new');
    const errors = lines.filter((l) => l.level === 50).map((l) => String(l.error));
    expect(errors).toEqual([expect.stringMatching(/not JSON/), 'cannot read: ENOENT']);
    expect(JSON.stringify(lines)).not.toContain('token-0123456789');
  });
});
