import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descriptorSetPath } from '../src/common/proto-path';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { docCommands } from './support/doc-snippets';

const ROOT = join(__dirname, '..');
const BUF = join(ROOT, 'node_modules', '.bin', 'buf');
const TOKEN = 'reflection-test-token';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real buf CLI (npm @bufbuild/buf) and settles with its exit code and output. */
function buf(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(BUF, args, { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `buf curl` over gRPC (HTTP/2 without TLS) against the service, with the schema from server reflection. */
function bufCurl(address: string, args: string[]): Promise<Run> {
  return buf(['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args.map((a) => a.replace('{addr}', `http://${address}`))]);
}

/** Every rpc of service Exec in proto/exec.proto: what reflection must list, no more, no less. */
const EXEC_METHODS = [...readFileSync(join(ROOT, 'proto', 'exec.proto'), 'utf8').matchAll(/^\s*rpc\s+(\w+)\s*\(/gm)].map((m) => `dagger.exec.Exec/${m[1]}`);
const HEALTH_METHODS = ['Check', 'Watch'].map((m) => `grpc.health.v1.Health/${m}`);

describe('the descriptor set that reflection serves', () => {
  it('is what buf builds from the .proto files now (PROTOCOL.md: `bash scripts/proto-descriptors.sh` after editing a .proto)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-stream-descriptors-'));
    try {
      const out = join(dir, 'fresh.binpb');
      await new Promise<void>((resolve, reject) =>
        execFile('bash', ['scripts/proto-descriptors.sh', out], { cwd: ROOT }, (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())),
      );
      expect(readFileSync(out).equals(readFileSync(descriptorSetPath()))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server reflection with buf curl', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server?.close());

  it.each(['grpc-v1', 'grpc-v1alpha'])('--list-methods over %s lists Exec and Health', async (protocol) => {
    const r = await bufCurl(server.address, ['--reflect-protocol', protocol, '--list-methods', '{addr}']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const methods = r.stdout.trim().split('\n');
    expect(EXEC_METHODS).toEqual(expect.arrayContaining(['dagger.exec.Exec/Session', 'dagger.exec.Exec/CopyFrom', 'dagger.exec.Exec/ListSessions']));
    expect(methods.filter((m) => m.startsWith('dagger.exec.Exec/')).sort()).toEqual([...EXEC_METHODS].sort());
    for (const m of HEALTH_METHODS) expect(methods).toContain(m);
  });

  it("PROTOCOL.md's two `buf curl` commands as written (buf from node_modules/.bin, the address this server's)", async () => {
    const documented = docCommands(['docs/PROTOCOL.md'])
      .map((c) => c.command)
      .filter((c) => c.startsWith('buf curl'));
    expect(documented).toEqual([
      'buf curl --protocol grpc --http2-prior-knowledge --list-methods http://127.0.0.1:50051',
      `buf curl --protocol grpc --http2-prior-knowledge -d '{"container_id":"abc"}' http://127.0.0.1:50051/dagger.exec.Exec/ContainerStatus`,
    ]);
    const run = (command: string) =>
      new Promise<Run>((resolve) =>
        execFile(
          'bash',
          ['-c', command.replaceAll('127.0.0.1:50051', server.address)],
          { cwd: ROOT, env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
        ),
      );
    const list = await run(documented[0]);
    expect({ code: list.code, methods: list.stdout.trim().split('\n') }).toEqual({ code: 0, methods: expect.arrayContaining(EXEC_METHODS) });
    const status = await run(documented[1]);
    expect(status.code).not.toBe(0);
    expect(JSON.parse(status.stderr)).toMatchObject({ code: 'not_found' });
  });

  it('calls ContainerStatus through the reflected schema and gets a real error code', async () => {
    // Not an id (a space, a "!"): INVALID_ARGUMENT naming the field (docs/PROTOCOL.md, limits on requests).
    const r = await bufCurl(server.address, ['-d', '{"container_id": "no such id!"}', '{addr}/dagger.exec.Exec/ContainerStatus']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stderr)).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('container_id') });
  });

  it('runs a Session whose Start carries env (the map field) through the reflected schema', async () => {
    const start = { start: { image: BASE_IMAGE, command: ['sh', '-c', 'printf "$GREETING"'], env: { GREETING: 'hello from reflection' } } };
    const r = await bufCurl(server.address, ['-d', JSON.stringify(start), '{addr}/dagger.exec.Exec/Session']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const responses = r.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map((j) => JSON.parse(j) as Record<string, any>);
    const stdout = Buffer.concat(responses.filter((m) => m.stdout).map((m) => Buffer.from(m.stdout, 'base64'))).toString();
    expect(stdout).toBe('hello from reflection');
    expect(responses.at(-1)).toEqual({ exit: 0 });
    // The session's container is removed by server.close() with the others.
  });
});

describe('server reflection with auth enabled', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN })));
  afterAll(() => server?.close());

  it('needs the token like every other non-health call', async () => {
    const denied = await bufCurl(server.address, ['--list-methods', '{addr}']);
    expect(denied.code).not.toBe(0);
    // buf words the UNAUTHENTICATED code as its own login hint.
    expect(denied.stderr).toMatch(/not authenticated/i);
    const allowed = await bufCurl(server.address, ['-H', `Authorization: Bearer ${TOKEN}`, '--reflect-header', '*', '--list-methods', '{addr}']);
    expect(allowed.stderr).toBe('');
    expect(allowed.stdout.trim().split('\n')).toEqual(expect.arrayContaining([...EXEC_METHODS, ...HEALTH_METHODS]));
    expect(
      allowed.stdout
        .trim()
        .split('\n')
        .filter((m) => m.startsWith('dagger.exec.Exec/')),
    ).toHaveLength(EXEC_METHODS.length);
  });
});
