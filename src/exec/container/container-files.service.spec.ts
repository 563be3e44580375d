import { ExecError } from '../../common/errors';
import { COPY_PATH_MAX_COMPONENTS, partialPath, requirePath } from './container-files.service';

const components = (n: number, name = 'a') => '/' + Array(n).fill(name).join('/');
const refusal = (path: string) => {
  try {
    requirePath(path);
  } catch (err) {
    return err instanceof ExecError ? { kind: err.kind, message: err.message } : err;
  }
  return 'accepted';
};

describe('requirePath (CopyTo / CopyFrom)', () => {
  it(`refuses more than ${COPY_PATH_MAX_COMPONENTS} components, as resolved ("." and ".." counted as Docker resolves them) before Docker ("too many links")`, () => {
    expect(refusal(components(260))).toEqual({ kind: 'invalid', message: expect.stringMatching(/at most 255 components/) });
    expect(refusal(components(256))).toMatchObject({ kind: 'invalid' });
    expect(refusal(`${components(255)}/./x`)).toMatchObject({ kind: 'invalid' });
    expect(refusal(components(255))).toBe('accepted');
    expect(refusal(`${components(300)}${'/..'.repeat(100)}`)).toBe('accepted');
    expect(refusal(`${'/..'.repeat(300)}/etc`)).toBe('accepted');
    expect(refusal(`${components(300, '.')}/etc//tmp/`)).toBe('accepted');
  });
});

describe('partialPath', () => {
  it('is where Docker puts an entry under the directory, as it cleans names', () => {
    expect(partialPath('/tmp/d', 'a.txt')).toBe('/tmp/d/a.txt');
    expect(partialPath('/tmp/d', './sub/b.bin')).toBe('/tmp/d/sub/b.bin');
    expect(partialPath('/tmp/d', '/abs/c')).toBe('/tmp/d/abs/c');
    expect(partialPath('/tmp/d', '/x/../../y')).toBe('/tmp/d/y');
  });

  it('is nothing for a name Docker refuses as leaving the directory, or for the directory itself', () => {
    for (const name of ['../etc/passwd', 'a/../../etc/passwd', '..', '.', './', '']) expect(partialPath('/tmp/d', name)).toBeUndefined();
  });
});

describe('requirePath', () => {
  it('takes an absolute path and refuses a relative one', () => {
    expect(requirePath('/tmp')).toBe('/tmp');
    expect(() => requirePath('tmp')).toThrow(/must be absolute/);
  });
});
