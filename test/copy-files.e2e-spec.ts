import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { FileClient, GRPCConnectionManager } from '@exec-stream/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { backgroundReader, waitUntil } from './support/conditions';
import { docker, grpcError, sha256 } from './support/helpers';
import { generatedTar, smallTar, TarDigest } from './support/tar';

// Tokens: the service holds only their sha256 (EXEC_AUTH_TOKENS_FILE); ADMIN is EXEC_AUTH_TOKEN.
const ADMIN = 'copy-files-admin-token-0123456789';
const READER = 'copy-files-reader-token-0123456789';

let server: TestServer;
let files: FileClient;
let containerId: string;
let tokensDir: string;
const fixtures: string[] = [];

beforeAll(async () => {
  tokensDir = mkdtempSync(join(tmpdir(), 'exec-stream-copy-files-'));
  const tokensFile = join(tokensDir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify([{ name: 'reader', sha256: sha256(READER), scopes: ['read'] }]));
  server = await startTestServer({ EXEC_AUTH_TOKEN: ADMIN, EXEC_AUTH_TOKENS_FILE: tokensFile });
  files = new FileClient(server.connection);
  const s = server.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
  containerId = (await s.ready).containerId;
});
afterAll(async () => {
  if (fixtures.length) docker('rm', '-f', '-v', ...fixtures);
  await server?.close();
  rmSync(tokensDir, { recursive: true, force: true });
});

/** Runs `script` in the test's container and returns its stdout (exit code 0 required). */
async function inContainer(script: string): Promise<string> {
  const r = await server.client.exec(containerId, { command: ['sh', '-c', script] }).collect();
  expect({ exitCode: r.exitCode, stderr: r.stderr.toString() }).toEqual({ exitCode: 0, stderr: '' });
  return r.stdout.toString();
}

/** Reads a CopyFrom stream through to its entries (name, size, sha256 of the content). */
async function entriesOf(path: string) {
  const { stat, tar } = await files.copyFrom(containerId, path);
  const digest = new TarDigest();
  await pipeline(tar, digest);
  return { stat, entries: digest.entries };
}

describe('CopyTo and CopyFrom', () => {
  it('a 6 MiB file goes in and comes back out byte-exactly (sha256 in the container and of the tar entry)', async () => {
    // 6 MiB and a part block: hundreds of 16 KiB messages each way, more than the client's 4 MiB HTTP/2
    // window and the 1 MiB a copy may hold at the service.
    const size = 6 * 1024 * 1024 + 123;
    const source = generatedTar('big.bin', size);
    const { bytesReceived } = await files.copyTo(containerId, '/tmp', source.tar);
    expect(bytesReceived).toBe(512 + Math.ceil(size / 512) * 512 + 1024);
    expect((await inContainer('sha256sum /tmp/big.bin')).split(' ')[0]).toBe(source.sha256());

    const { stat, entries } = await entriesOf('/tmp/big.bin');
    expect(stat).toMatchObject({ name: 'big.bin', size });
    expect(stat.mtimeNs).toBeGreaterThan(0n);
    expect(entries).toEqual([{ name: 'big.bin', type: '0', size, sha256: source.sha256() }]);
  });

  it('a directory comes out as a tar of its files; several files go in in one tar', async () => {
    await inContainer('mkdir -p /tmp/dir');
    const tar = smallTar({ 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n' });
    await inContainer('mkdir -p /tmp/dir/sub');
    expect(await files.copyTo(containerId, '/tmp/dir', [tar])).toEqual({ bytesReceived: tar.length });
    expect(await inContainer('cat /tmp/dir/a.txt /tmp/dir/sub/b.txt')).toBe('alpha\nbeta\n');
    const { stat, entries } = await entriesOf('/tmp/dir');
    expect(stat.name).toBe('dir');
    expect(stat.mode & 0x80000000).toBeTruthy(); // Go's os.ModeDir
    const regular = entries.filter((e) => e.type === '0').map((e) => [e.name, e.sha256]);
    expect(regular.sort()).toEqual([
      ['dir/a.txt', sha256('alpha\n')],
      ['dir/sub/b.txt', sha256('beta\n')],
    ]);
  });
});

describe('CopyTo and CopyFrom errors', () => {
  const expectCode = async (p: Promise<unknown>, code: Code, text: RegExp) => {
    const e = await grpcError(p);
    expect({ code: Code[e.code], details: e.details }).toEqual({ code: Code[code], details: expect.stringMatching(text) });
  };

  it('a missing path is NOT_FOUND naming it', async () => {
    await expectCode(entriesOf('/tmp/no-such-file'), Code.NOT_FOUND, /\/tmp\/no-such-file/);
    await expectCode(files.copyTo(containerId, '/no/such/dir', [smallTar({ x: 'x' })]), Code.NOT_FOUND, /\/no\/such\/dir/);
  });

  it('a relative or NUL path is INVALID_ARGUMENT; so is a container id that is not one', async () => {
    await expectCode(entriesOf('tmp'), Code.INVALID_ARGUMENT, /must be absolute/);
    await expectCode(files.copyTo(containerId, 'tmp', [smallTar({ x: 'x' })]), Code.INVALID_ARGUMENT, /must be absolute/);
    await expectCode(entriesOf('/tmp/a\0b'), Code.INVALID_ARGUMENT, /NUL/);
    await expectCode(files.copyFrom('', '/tmp'), Code.INVALID_ARGUMENT, /container_id/);
  });

  it('CopyTo without a header first, or with none at all, is INVALID_ARGUMENT', async () => {
    const raw = server.connection.getClient();
    const call = (messages: object[]) =>
      new Promise((resolve, reject) => {
        const c = raw.CopyTo(server.connection.getMetadata(), (err: ServiceError | null, v: unknown) => (err ? reject(err) : resolve(v)));
        for (const m of messages) c.write(m);
        c.end();
      });
    await expectCode(call([{ tar: Buffer.alloc(512) }]), Code.INVALID_ARGUMENT, /first CopyTo message must be header/);
    await expectCode(call([]), Code.INVALID_ARGUMENT, /closed before its header/);
    await expectCode(
      call([{ header: { container_id: containerId, path: '/tmp' } }, { header: { container_id: containerId, path: '/tmp' } }]),
      Code.INVALID_ARGUMENT,
      /one header/,
    );
  });

  /** docker inspect of a container answers within 3 s (it waits while Docker holds the container's lock). */
  const inspectAnswers = (containerId: string) => () =>
    promisify(execFile)('docker', ['inspect', '--format', '{{.State.Running}}', containerId], { encoding: 'utf8', timeout: 3000 }).then(
      (r) => r.stdout.trim() === 'true',
      () => false,
    );

  it('a stalled client ends its copy with ABORTED and frees the container, which Docker locks while an archive request is open', async () => {
    // A server of its own with a short stall limit: it applies to every copy of that server, and the
    // copies of the other tests must not depend on how promptly a busy machine reads and writes.
    const server = await startTestServer({ EXEC_COPY_STALL_MS: '2000' });
    const holder = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 33554432 /dev/zero > /tmp/stall-big; echo ready; exec sleep 600'] });
    const { containerId } = await holder.ready;
    await backgroundReader(holder.output()).until('ready\n');
    const raw = server.connection.getClient();
    // CopyFrom: the stat arrives, then the client takes nothing more.
    const from = raw.CopyFrom({ container_id: containerId, path: '/tmp/stall-big' }, server.connection.getMetadata());
    const fromEnd = new Promise<ServiceError>((resolve) => from.on('error', resolve));
    await new Promise((resolve) => from.once('data', resolve));
    from.pause();
    // CopyTo: a header and the start of a tar, then nothing (the call stays open). Both calls are
    // cancelled at the end whatever happens, so that a failure here does not leave Docker locked.
    let to: ReturnType<typeof raw.CopyTo> | undefined;
    try {
      const toErr = await Promise.race([
        new Promise<ServiceError | null>((resolve) => {
          to = raw.CopyTo(server.connection.getMetadata(), (err: ServiceError | null) => resolve(err));
          to.write({ header: { container_id: containerId, path: '/tmp' } });
          to.write({ tar: smallTar({ stalled: 'x'.repeat(65536) }).subarray(0, 4096) });
        }),
        new Promise<'still open after 20 s'>((resolve) => setTimeout(() => resolve('still open after 20 s'), 20_000)),
      ]);
      expect(typeof toErr === 'string' ? toErr : { code: Code[toErr!.code], details: toErr!.details }).toEqual({
        code: 'ABORTED',
        details: expect.stringMatching(/EXEC_COPY_STALL_MS/),
      });
      // While the CopyFrom client still reads nothing, the service has let go of Docker's request: inspect,
      // which takes the container's lock, answers (before, it waited as long as the client stalled).
      await waitUntil('docker inspect answering while the CopyFrom client stalls', inspectAnswers(containerId), 30_000);
      from.on('data', () => undefined);
      from.resume();
      const fromErr = await fromEnd;
      expect({ code: Code[fromErr.code], details: fromErr.details }).toEqual({ code: 'ABORTED', details: expect.stringMatching(/EXEC_COPY_STALL_MS/) });
    } finally {
      // Whatever failed above, the service sees both cancels (its loop is not blocked meanwhile: the
      // docker CLI runs asynchronously) and lets go of Docker before the suite's synchronous clean-up.
      to?.cancel();
      from.cancel();
      await waitUntil('docker inspect answering once both calls are cancelled', inspectAnswers(containerId), 30_000);
      await server.close();
    }
  });

  it('bytes that are not a tar are INVALID_ARGUMENT', async () => {
    await expectCode(files.copyTo(containerId, '/tmp', [Buffer.from('this is not a tar archive'.repeat(100))]), Code.INVALID_ARGUMENT, /tar/i);
  });

  it('a container this instance does not manage is PERMISSION_DENIED; an unknown one NOT_FOUND', async () => {
    const foreign = docker('run', '-d', '--network', 'none', BASE_IMAGE, 'sleep', '600');
    fixtures.push(foreign);
    await expectCode(files.copyFrom(foreign, '/tmp'), Code.PERMISSION_DENIED, /not managed/);
    await expectCode(files.copyTo(foreign, '/tmp', [smallTar({ x: 'x' })]), Code.PERMISSION_DENIED, /not managed/);
    await expectCode(files.copyFrom('0123456789ab0123456789ab', '/tmp'), Code.NOT_FOUND, /0123456789ab/);
  });

  it('the same auth as every RPC: no token UNAUTHENTICATED; a read token may CopyFrom but not CopyTo', async () => {
    const anonymous = new FileClient(new GRPCConnectionManager({ address: server.address }));
    const reader = new FileClient(new GRPCConnectionManager({ address: server.address, token: READER }));
    await expectCode(anonymous.copyFrom(containerId, '/tmp'), Code.UNAUTHENTICATED, /token/);
    await expectCode(anonymous.copyTo(containerId, '/tmp', [smallTar({ x: 'x' })]), Code.UNAUTHENTICATED, /token/);
    await expectCode(reader.copyTo(containerId, '/tmp', [smallTar({ x: 'x' })]), Code.PERMISSION_DENIED, /CopyTo needs scope "run"/);
    const { stat, tar } = await reader.copyFrom(containerId, '/tmp/dir/a.txt');
    const digest = new TarDigest();
    await pipeline(tar, digest);
    expect({ size: stat.size, sha: digest.entries[0]?.sha256 }).toEqual({ size: 6, sha: sha256('alpha\n') });
  });
});
