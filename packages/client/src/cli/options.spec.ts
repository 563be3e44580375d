import { envVar, keyValue } from './options';

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
