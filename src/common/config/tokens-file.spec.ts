import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTokensFile, tokensFileProblems } from './tokens-file';

const HASH = 'a'.repeat(64);

describe('parseTokensFile', () => {
  it('maps each lower-cased hash to its name and scopes', () => {
    const tokens = parseTokensFile(JSON.stringify([{ name: 'ci', sha256: HASH.toUpperCase(), scopes: ['run', 'read'] }]));
    expect(tokens.get(HASH)).toEqual({ name: 'ci', scopes: new Set(['run', 'read']) });
  });

  it('takes names that are JavaScript object keys (constructor, toString …) as ordinary names, unique as any other', () => {
    const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const tokens = parseTokensFile(JSON.stringify(names.map((name, i) => ({ name, sha256: String(i).repeat(64), scopes: ['read'] }))));
    expect([...tokens.values()].map((p) => p.name)).toEqual(names);
    const twice = JSON.stringify(['constructor', 'constructor'].map((name, i) => ({ name, sha256: String(i).repeat(64), scopes: ['read'] })));
    expect(() => parseTokensFile(twice)).toThrow(/name constructor appears twice/);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an object', '{}', /JSON array/],
    ['an entry that is not an object', '[1]', /entry 0 is not an object/],
    ['an unknown field', JSON.stringify([{ name: 'a', sha256: HASH, scopes: ['run'], scope: 'x' }]), /unknown field\(s\) scope/],
    ['a bad name', JSON.stringify([{ name: ' a', sha256: HASH, scopes: ['run'] }]), /name must be/],
    ['a short hash', JSON.stringify([{ name: 'a', sha256: 'abc', scopes: ['run'] }]), /64 hex digits/],
    ['no scopes', JSON.stringify([{ name: 'a', sha256: HASH, scopes: [] }]), /non-empty array/],
    ['an unknown scope', JSON.stringify([{ name: 'a', sha256: HASH, scopes: ['admin'] }]), /unknown scope "admin"/],
    [
      'a name twice',
      JSON.stringify([
        { name: 'a', sha256: HASH, scopes: ['run'] },
        { name: 'a', sha256: 'b'.repeat(64), scopes: ['run'] },
      ]),
      /name a appears twice/,
    ],
    [
      'a hash twice',
      JSON.stringify([
        { name: 'a', sha256: HASH, scopes: ['run'] },
        { name: 'b', sha256: HASH, scopes: ['read'] },
      ]),
      /same token hash as a/,
    ],
  ])('refuses %s', (_n, text, why) => {
    expect(() => parseTokensFile(text)).toThrow(why);
  });
});

describe('tokensFileProblems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-tokens-file-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the variable for a missing or bad file, and is silent for a good one or none', () => {
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify([{ name: 'ci', sha256: HASH, scopes: ['read'] }]));
    writeFileSync(bad, '[{"name":"ci"}]');
    expect(tokensFileProblems({})).toEqual([]);
    expect(tokensFileProblems({ EXEC_AUTH_TOKENS_FILE: good })).toEqual([]);
    expect(tokensFileProblems({ EXEC_AUTH_TOKENS_FILE: bad })[0]).toMatch(/^EXEC_AUTH_TOKENS_FILE=".*bad.json": entry 0 \(ci\): sha256/);
    expect(tokensFileProblems({ EXEC_AUTH_TOKENS_FILE: join(dir, 'none.json') })[0]).toMatch(/^EXEC_AUTH_TOKENS_FILE=.*cannot read the file \(ENOENT\)/);
  });
});
