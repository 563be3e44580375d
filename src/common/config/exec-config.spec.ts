import { defaultReplicaId, loadConfig } from './exec-config';

describe('loadConfig', () => {
  it('has safe defaults: loopback, network none, local log driver', () => {
    const c = loadConfig({});
    expect(c.EXEC_LISTEN).toBe('127.0.0.1:50051');
    expect(c.EXEC_CONTAINER_NETWORK).toBe('none');
    expect(c.EXEC_CONTAINER_LOG_DRIVER).toBe('local');
    expect(c.EXEC_RETENTION_SECONDS).toBeGreaterThanOrEqual(600);
  });

  it.each([
    ['EXEC_LISTEN', 'no-port'],
    ['EXEC_MAX_SESSIONS', 'many'],
    ['EXEC_MAX_SESSIONS', '0'],
    ['EXEC_TAIL_BYTES', '10'],
    ['DOCKER_HOST', 'ftp://x'],
    ['EXEC_AUTH_TOKEN', 'short'],
    ['EXEC_LOG_LEVEL', 'loud'],
    ['EXEC_REPLICA_ID', 'Upper'],
    ['EXEC_REPLICA_ID', '-lead'],
    ['EXEC_REPLICA_ID', 'a.b'],
    ['EXEC_REPLICA_ID', 'x'.repeat(64)],
    ['EXEC_DOCKER_TIMEOUT_MS', '1.5s'],
    ['EXEC_DOCKER_TIMEOUT_MS', '0'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });

  it('without a token, refuses to listen beyond loopback and says why', () => {
    expect(() => loadConfig({ EXEC_LISTEN: '0.0.0.0:50051' })).toThrow(/EXEC_LISTEN=0.0.0.0:50051.*only on loopback/s);
    expect(loadConfig({ EXEC_LISTEN: '0.0.0.0:50051', EXEC_AUTH_TOKEN: 'x'.repeat(32) }).EXEC_LISTEN).toBe('0.0.0.0:50051');
    expect(loadConfig({ EXEC_LISTEN: '[::1]:50051' }).listenHost).toBe('::1');
  });

  it('takes a DNS-1123 replica id, by default the host name made one', () => {
    expect(loadConfig({ EXEC_REPLICA_ID: 'exec-0' }).EXEC_REPLICA_ID).toBe('exec-0');
    expect(loadConfig({}).EXEC_REPLICA_ID).toBe(defaultReplicaId());
    expect(defaultReplicaId('Build_Host.example.com')).toBe('build-host-example-com');
    expect(defaultReplicaId('--')).toBe('exec-stream');
  });

  it('reads numbers from strings', () => {
    expect(loadConfig({ EXEC_MAX_SESSIONS: '3' }).EXEC_MAX_SESSIONS).toBe(3);
    expect(loadConfig({ EXEC_DOCKER_TIMEOUT_MS: '1500' }).EXEC_DOCKER_TIMEOUT_MS).toBe(1500);
    expect(loadConfig({}).EXEC_DOCKER_TIMEOUT_MS).toBe(30_000);
  });
});
