import { pullRequestOf } from './pull-step';

describe('pullRequestOf', () => {
  const image = '127.0.0.1:5000/busybox:1';

  it('never (or unset) pulls nothing; the others name the policy, with per-request credentials when given', () => {
    expect(pullRequestOf({ image }, 'run')).toBeUndefined();
    expect(pullRequestOf({ image, pull: 'never' }, 'run')).toBeUndefined();
    expect(pullRequestOf({ image, pull: 'if_missing' }, 'run')).toEqual({ image, policy: 'if_missing', credentials: undefined });
    expect(pullRequestOf({ image, pull: 'always', registry_auth: { username: 'u', password: 'p', server_address: '', identity_token: '' } }, 'run')).toEqual({
      image,
      policy: 'always',
      credentials: { username: 'u', password: 'p', serverAddress: undefined, identityToken: '' },
    });
  });

  it('refuses unknown policies, pulls outside a run and credentials without a user or token', () => {
    expect(() => pullRequestOf({ image, pull: 'sometimes' }, 'run')).toThrow(/pull must be one of never, if_missing, always/);
    expect(() => pullRequestOf({ pull: 'always' }, 'exec')).toThrow(/apply to a run/);
    expect(() => pullRequestOf({ registry_auth: { username: 'u' } }, 'attach')).toThrow(/apply to a run/);
    expect(() => pullRequestOf({ image, pull: 'always', registry_auth: { password: 'p' } }, 'run')).toThrow(/needs username/);
    expect(() => pullRequestOf({ image, pull: 'always', registry_auth: { username: 'u'.repeat(5000) } }, 'run')).toThrow(/at most 4096 bytes/);
  });
});
