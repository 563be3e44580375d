import { loadConfig } from './exec-config';
import { parseRegistryAuthFile, registryKey } from './registry-auth-file';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseRegistryAuthFile', () => {
  it('reads "auth", username/password and identitytoken entries, keyed by host[:port]', () => {
    const logins = parseRegistryAuthFile(
      JSON.stringify({
        auths: {
          '127.0.0.1:5000': { auth: b64('alice:pa:ss') },
          'https://index.docker.io/v1/': { username: 'bob', password: 'pw' },
          'ghcr.io': { identitytoken: 'tok' },
        },
        credsStore: 'ignored',
      }),
    );
    expect(Object.fromEntries(logins)).toEqual({
      '127.0.0.1:5000': { username: 'alice', password: 'pa:ss' },
      'docker.io': { username: 'bob', password: 'pw' },
      'ghcr.io': { identityToken: 'tok' },
    });
  });

  it('refuses what is not a config.json with usable "auths", naming the entry and never a secret', () => {
    expect(() => parseRegistryAuthFile('nope')).toThrow(/not JSON/);
    expect(() => parseRegistryAuthFile('{"credsStore":"desktop"}')).toThrow(/"auths" object/);
    expect(() => parseRegistryAuthFile(JSON.stringify({ auths: { 'r.io': { auth: b64('nocolon') } } }))).toThrow(/auths\["r.io"\].auth must be base64/);
    expect(() => parseRegistryAuthFile(JSON.stringify({ auths: { 'r.io': {} } }))).toThrow(/auths\["r.io"\] has no/);
  });

  it('normalises registry keys', () => {
    expect(['http://localhost:5000/v2/', 'registry-1.docker.io', 'index.docker.io', 'r.example.com:443'].map(registryKey)).toEqual([
      'localhost:5000',
      'docker.io',
      'docker.io',
      'r.example.com:443',
    ]);
  });
});

describe('EXEC_REGISTRY_AUTH_FILE at start-up', () => {
  it('an unreadable file stops the configuration, naming the variable and the file', () => {
    expect(() => loadConfig({ EXEC_REGISTRY_AUTH_FILE: '/nonexistent/config.json' })).toThrow(
      /EXEC_REGISTRY_AUTH_FILE="\/nonexistent\/config.json": cannot read \/nonexistent\/config.json: ENOENT/,
    );
  });
});
