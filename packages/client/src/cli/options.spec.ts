import { byteSize, duration, envVar, keyValue } from './options';

describe('CLI -e / -l values', () => {
  it('keeps names that are JavaScript object keys as ordinary names', () => {
    let env: Record<string, string> = {};
    for (const n of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) env = keyValue(`${n}=v-${n}`, env);
    expect(Object.entries(env)).toEqual([
      ['toString', 'v-toString'],
      ['__proto__', 'v-__proto__'],
      ['constructor', 'v-constructor'],
      ['hasOwnProperty', 'v-hasOwnProperty'],
    ]);
  });

  it('-e NAME passes only a variable that is set, never a member of process.env (toString, constructor)', () => {
    expect(envVar('toString')).toEqual({});
    expect(envVar('constructor', { A: '1' })).toEqual({ A: '1' });
    process.env.EXEC_STREAM_OPTIONS_SPEC = 'set';
    try {
      expect(envVar('EXEC_STREAM_OPTIONS_SPEC')).toEqual({ EXEC_STREAM_OPTIONS_SPEC: 'set' });
    } finally {
      delete process.env.EXEC_STREAM_OPTIONS_SPEC;
    }
  });
});

// docs/CLI.md, `run`: "Sizes take b, k, m, g (powers of 1024); durations 500ms, 30s, 5m, 1h30m (a bare
// number is seconds)", and "-e K alone passes our value of K".
describe('the run flags as CLI.md states them', () => {
  it('sizes: b, k, m, g in powers of 1024, a bare number in bytes', () => {
    expect([byteSize('512b'), byteSize('4k'), byteSize('512m'), byteSize('2g'), byteSize('1048576'), byteSize('1.5g')]).toEqual([
      512,
      4096,
      512 * 1024 ** 2,
      2 * 1024 ** 3,
      1048576,
      1.5 * 1024 ** 3,
    ]);
    for (const bad of ['lots', '-1m', '0', '5x']) expect(() => byteSize(bad)).toThrow(/size/);
  });

  it('durations: ms, s, m, h and their sums; a bare number is seconds', () => {
    expect([duration('500ms'), duration('30s'), duration('5m'), duration('1h30m'), duration('90'), duration('1m30s')]).toEqual([
      500, 30_000, 300_000, 5_400_000, 90_000, 90_000,
    ]);
    for (const bad of ['soon', '1d', '0', '-5s']) expect(() => duration(bad)).toThrow(/duration/);
  });

  it('-e K=V sets K; -e K alone passes our value of K, and nothing when we have none', () => {
    process.env.EXEC_SPEC_OURS = 'ours';
    delete process.env.EXEC_SPEC_UNSET;
    expect(envVar('A=1')).toEqual({ A: '1' });
    expect(envVar('EXEC_SPEC_OURS', { A: '1' })).toEqual({ A: '1', EXEC_SPEC_OURS: 'ours' });
    expect(envVar('EXEC_SPEC_UNSET', { A: '1' })).toEqual({ A: '1' });
    delete process.env.EXEC_SPEC_OURS;
  });
});
