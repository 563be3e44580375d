import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerHostProblems, dockerUsesTls } from './docker-tls';
import { loadConfig } from './exec-config';

describe('Docker endpoint settings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'docker-tls-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses TLS for DOCKER_TLS_VERIFY=1, https:// and port 2376; plain http otherwise', () => {
    expect(dockerUsesTls({ DOCKER_HOST: 'tcp://h:2375', DOCKER_TLS_VERIFY: '1' })).toBe(true);
    expect(dockerUsesTls({ DOCKER_HOST: 'tcp://h:2376' })).toBe(true);
    expect(dockerUsesTls({ DOCKER_HOST: 'https://h:9999' })).toBe(true);
    expect(dockerUsesTls({ DOCKER_HOST: 'tcp://h:2375' })).toBe(false);
    expect(dockerUsesTls({ DOCKER_HOST: 'unix:///var/run/docker.sock' })).toBe(false);
  });

  it('refuses ssh://, a DOCKER_TLS_VERIFY other than 1, and TLS without a tcp:// host, naming the variable', () => {
    expect(() => loadConfig({ DOCKER_HOST: 'ssh://me@h' })).toThrow(/DOCKER_HOST="ssh:\/\/me@h": ssh:\/\/ is not supported/);
    expect(dockerHostProblems({ DOCKER_HOST: 'tcp://h:2375', DOCKER_TLS_VERIFY: '0' })).toEqual([
      expect.stringMatching(/^DOCKER_TLS_VERIFY="0": must be 1 or unset/),
    ]);
    expect(dockerHostProblems({ DOCKER_HOST: 'unix:///x.sock', DOCKER_TLS_VERIFY: '1' })).toEqual([
      expect.stringMatching(/^DOCKER_TLS_VERIFY=1 needs DOCKER_HOST=tcp:/),
    ]);
  });

  it('names the missing or unusable file in DOCKER_CERT_PATH at start-up', () => {
    const env = { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir };
    expect(() => loadConfig(env)).toThrow(`DOCKER_CERT_PATH=${JSON.stringify(dir)}: cannot read ca.pem (ENOENT)`);
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
    writeFileSync(join(dir, 'cert.pem'), 'x');
    writeFileSync(join(dir, 'key.pem'), 'x');
    expect(() => loadConfig(env)).toThrow(/ca\.pem is not a PEM certificate/);
    expect(loadConfig({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }).DOCKER_HOST).toBe('tcp://127.0.0.1:2375');
  });
});
