import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultReplicaId, ExecConfig, loadConfig, trimmedSettings } from './exec-config';
import { DOCKER_DEFAULT_CAPABILITIES } from './limits-config';

describe('loadConfig', () => {
  it('has safe defaults: loopback, network none, no Docker log (the output record serves recovery)', () => {
    const c = loadConfig({});
    expect(c.EXEC_LISTEN).toBe('127.0.0.1:50051');
    expect(c.EXEC_CONTAINER_NETWORK).toBe('none');
    expect(c.EXEC_CONTAINER_LOG_DRIVER).toBe('none');
    expect(c.EXEC_RECOVERY_RECORD_BYTES).toBe(128 << 20);
    expect(c.EXEC_RETENTION_SECONDS).toBe(900);
  });

  it.each([
    ['EXEC_LISTEN', 'no-port'],
    ['EXEC_MAX_SESSIONS', 'many'],
    ['EXEC_MAX_SESSIONS', '0'],
    ['EXEC_TAIL_BYTES', '10'],
    ['EXEC_CONTAINER_LOG_OPTS', 'compress'],
    ['EXEC_CONTAINER_LOG_OPTS', 'compress=false,,max-size=1m'],
    ['EXEC_CONTAINER_LOG_OPTS', 'mode=non-blocking'],
    ['EXEC_CONTAINER_LOG_OPTS', 'compress=maybe'],
    ['EXEC_CONTAINER_LOG_OPTS', 'max-size='],
    ['EXEC_CONTAINER_LOG_OPTS', 'max-size=1m\r'],
    ['EXEC_CONTAINER_LOG_OPTS', 'max-file=0'],
    ['EXEC_CONTAINER_LOG_OPTS', 'max-file=2,max-file=3'],
    ['DOCKER_HOST', 'ftp://x'],
    ['EXEC_AUTH_TOKEN', 'short'],
    ['EXEC_LOG_LEVEL', 'loud'],
    ['EXEC_REPLICA_ID', 'Upper'],
    ['EXEC_REPLICA_ID', '-lead'],
    ['EXEC_REPLICA_ID', 'a.b'],
    ['EXEC_REPLICA_ID', 'x'.repeat(64)],
    ['EXEC_DOCKER_TIMEOUT_MS', '1.5s'],
    ['EXEC_DOCKER_TIMEOUT_MS', '0'],
    ['EXEC_PEERS', 'es-b'],
    ['EXEC_PEERS', 'es-b=127.0.0.1'],
    ['EXEC_PEERS', 'Es-b=127.0.0.1:50051'],
    ['EXEC_PEERS_DNS', 'not a name'],
    ['EXEC_DNS_SERVER', 'dns.example.com:53'],
    ['EXEC_PEERS_REFRESH_MS', '99'],
    ['EXEC_RECOVERY_RECORD_BYTES', '1000'],
    // Durations that go to one Node timer: at most a day (Node runs a delay over 2^31-1 ms after 1 ms).
    ['EXEC_PEERS_REFRESH_MS', '86400001'],
    ['EXEC_PEERS_REFRESH_MS', String(2 ** 31)],
    ['EXEC_COPY_STALL_MS', '86400001'],
    ['EXEC_COPY_STALL_MS', String(2 ** 31)],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    // Log options are checked for a driver that takes them.
    const driver = name === 'EXEC_CONTAINER_LOG_OPTS' ? { EXEC_CONTAINER_LOG_DRIVER: 'local' } : {};
    expect(() => loadConfig({ ...driver, [name]: value })).toThrow(new RegExp(`${name}=`));
  });

  it('drops the surrounding whitespace of EXEC_AUTH_TOKEN (a Secret made from `openssl rand -hex 32 > token`), and names it, never its value', () => {
    const token = 'a'.repeat(64);
    expect(loadConfig({ EXEC_AUTH_TOKEN: `${token}\n` }).EXEC_AUTH_TOKEN).toBe(token);
    expect(loadConfig({ EXEC_AUTH_TOKEN: ` ${token}\r\n` }).EXEC_AUTH_TOKEN).toBe(token);
    expect(trimmedSettings({ EXEC_AUTH_TOKEN: `${token}\n` })).toEqual(['EXEC_AUTH_TOKEN']);
    expect(trimmedSettings({ EXEC_AUTH_TOKEN: token })).toEqual([]);
    // Whitespace alone is no token: refused like a short one, never taken as "no token".
    expect(() => loadConfig({ EXEC_AUTH_TOKEN: ' \n' })).toThrow(/EXEC_AUTH_TOKEN=.*at least 16/);
    expect(() => loadConfig({ EXEC_AUTH_TOKEN: `${'b'.repeat(15)}\n` })).toThrow(/EXEC_AUTH_TOKEN=/);
  });

  it('without a token, refuses to listen beyond loopback and says why', () => {
    expect(() => loadConfig({ EXEC_LISTEN: '0.0.0.0:50051' })).toThrow(/EXEC_LISTEN=0.0.0.0:50051.*only on loopback/s);
    expect(loadConfig({ EXEC_LISTEN: '0.0.0.0:50051', EXEC_AUTH_TOKEN: 'x'.repeat(32) }).EXEC_LISTEN).toBe('0.0.0.0:50051');
    expect(loadConfig({ EXEC_LISTEN: '[::1]:50051' }).EXEC_LISTEN).toBe('[::1]:50051'); // IPv6 loopback, no token needed
  });

  it('takes a DNS-1123 replica id, by default the host name made one', () => {
    expect(loadConfig({ EXEC_REPLICA_ID: 'exec-0' }).EXEC_REPLICA_ID).toBe('exec-0');
    expect(loadConfig({}).EXEC_REPLICA_ID).toBe(defaultReplicaId());
    expect(defaultReplicaId('Build_Host.example.com')).toBe('build-host-example-com');
    expect(defaultReplicaId('--')).toBe('exec-stream');
  });

  it('takes peers as id=host:port entries, naming the entry it refuses', () => {
    expect(loadConfig({}).EXEC_PEERS).toBe('');
    expect(loadConfig({ EXEC_PEERS: 'es-a=10.0.0.1:50051, es-b=exec-b.local:50051,es-c=[fd00::1]:50051' }).EXEC_PEERS).toMatch(/^es-a=/);
    expect(() => loadConfig({ EXEC_PEERS: 'es-a=10.0.0.1:50051,es-b:50051' })).toThrow(/EXEC_PEERS entry "es-b:50051" is not id=host:port/);
    expect(() => loadConfig({ EXEC_PEERS: 'es-a=10.0.0.1:50051,' })).toThrow(/EXEC_PEERS entry "" is not id=host:port/);
    expect(() => loadConfig({ EXEC_PEERS: 'es-a=10.0.0.1:1,es-a=10.0.0.2:1' })).toThrow(/names replica es-a twice/);
  });

  it('takes an SRV name, a DNS server and a refresh interval for DNS peers', () => {
    const c = loadConfig({
      EXEC_PEERS_DNS: '_grpc._tcp.exec-stream-headless.default.svc.cluster.local',
      EXEC_DNS_SERVER: '127.0.0.1:5353',
      EXEC_PEERS_REFRESH_MS: '500',
    });
    expect([c.EXEC_PEERS_DNS, c.EXEC_DNS_SERVER, c.EXEC_PEERS_REFRESH_MS]).toEqual([
      '_grpc._tcp.exec-stream-headless.default.svc.cluster.local',
      '127.0.0.1:5353',
      500,
    ]);
    expect(loadConfig({ EXEC_DNS_SERVER: '[fd00::10]:53' }).EXEC_DNS_SERVER).toBe('[fd00::10]:53');
    const d = loadConfig({});
    expect([d.EXEC_PEERS_DNS, d.EXEC_DNS_SERVER, d.EXEC_PEERS_REFRESH_MS]).toEqual(['', '', 10_000]);
  });

  it('reads numbers from strings', () => {
    expect(loadConfig({ EXEC_MAX_SESSIONS: '3' }).EXEC_MAX_SESSIONS).toBe(3);
    expect(loadConfig({ EXEC_DOCKER_TIMEOUT_MS: '1500' }).EXEC_DOCKER_TIMEOUT_MS).toBe(1500);
    expect(loadConfig({}).EXEC_DOCKER_TIMEOUT_MS).toBe(30_000);
  });

  it('reads true / false as booleans and refuses anything else, naming the setting', () => {
    const d = loadConfig({});
    expect([d.EXEC_CONTAINER_INIT, d.EXEC_READ_ONLY_ROOTFS, d.EXEC_AUDIT_STDOUT, d.EXEC_REMOVE_CONTAINERS]).toEqual([true, false, false, true]);
    const c = loadConfig({ EXEC_CONTAINER_INIT: 'false', EXEC_READ_ONLY_ROOTFS: 'true', EXEC_AUDIT_STDOUT: 'true', EXEC_REMOVE_CONTAINERS: 'false' });
    expect([c.EXEC_CONTAINER_INIT, c.EXEC_READ_ONLY_ROOTFS, c.EXEC_AUDIT_STDOUT, c.EXEC_REMOVE_CONTAINERS]).toEqual([false, true, true, false]);
    for (const bad of ['yes', '1', 'TRUE', ''])
      expect(() => loadConfig({ EXEC_REMOVE_CONTAINERS: bad })).toThrow(
        `EXEC_REMOVE_CONTAINERS=${JSON.stringify(bad)}: EXEC_REMOVE_CONTAINERS must be true or false`,
      );
  });
});

describe('README "Configuration" states what loadConfig does', () => {
  // The table's rows between "## Configuration" and the next heading: `NAME`[, `NAME`] | default | meaning.
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const rows = [...section.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \| (.*?) \| /gm)].map((m) => ({
    names: [...m[1].matchAll(/`([A-Z_]+)`/g)].map((n) => n[1]),
    defaults: m[2],
  }));
  /** Read by docker-modem from the environment, not by loadConfig. */
  const DOCKER_MODEM = ['DOCKER_HOST', 'DOCKER_CERT_PATH'];
  const bytes: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

  /** A documented default as loadConfig({}) holds it: a string, a number, or undefined for unset / empty. */
  function expected(name: string, text: string): unknown {
    if (/^(unset|empty)\b/.test(text)) return undefined;
    if (name === 'EXEC_DATA_DIR' && text === '`$TMPDIR/exec-stream`') return join(tmpdir(), 'exec-stream');
    if (name === 'EXEC_REPLICA_ID' && /host name/.test(text)) return defaultReplicaId();
    const less = /^Docker's default set less (.*)$/.exec(text);
    if (name === 'EXEC_CAPABILITIES' && less) {
      const dropped = [...less[1].matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]);
      return DOCKER_DEFAULT_CAPABILITIES.filter((c) => !dropped.includes(c))
        .sort()
        .join(',');
    }
    const literal = /^`([^`]*)`$/.exec(text);
    if (literal) return literal[1];
    const sized = /^(\d+) (KiB|MiB|GiB)$/.exec(text);
    if (sized) return Number(sized[1]) * bytes[sized[2]];
    if (/^\d+$/.test(text)) return Number(text);
    // A number with what it stands for in words ("0 (a quarter of …)"): the setting holds the number.
    const explained = /^(\d+) \(.*\)$/.exec(text);
    if (explained) return Number(explained[1]);
    throw new Error(`${name}: a documented default this test cannot read: ${text}`);
  }

  it('documents every setting that has a default', () => {
    const documented = new Set(rows.flatMap((r) => r.names));
    expect(Object.keys(new ExecConfig()).filter((k) => !documented.has(k))).toEqual([]);
  });

  it('with nothing set, every setting has the default the table gives', () => {
    const config = loadConfig({}) as unknown as Record<string, unknown>;
    const checked: string[] = [];
    for (const { names, defaults } of rows) {
      // `A`, `B` | 0, 0: one default each; `A`, `B` | unset: the same for both.
      const values = names.length > 1 && defaults.includes(', ') ? defaults.split(', ') : names.map(() => defaults);
      names.forEach((name, i) => {
        if (DOCKER_MODEM.includes(name)) return;
        const want = expected(name, values[i]);
        let got = config[name];
        if (name === 'EXEC_CAPABILITIES') got = String(got).split(',').sort().join(',');
        if (want === undefined) expect({ name, value: got ?? '' }).toEqual({ name, value: '' });
        else expect({ name, value: typeof want === 'number' ? Number(got) : String(got) }).toEqual({ name, value: want });
        checked.push(name);
      });
    }
    expect(checked.length).toBeGreaterThanOrEqual(40);
  });
});
