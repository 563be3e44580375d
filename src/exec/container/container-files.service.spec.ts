import { ExecError } from '../../common/errors';
import { COPY_PATH_MAX_COMPONENTS, requirePath } from './container-files.service';

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
