import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { ControlClient, FileClient, GRPCConnectionManager } from '@exec-stream/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { backgroundReader, removeContainers, waitUntil } from './support/conditions';
import { HangingDocker } from './support/hanging-docker';
import { docker, grpcError, sha256 } from './support/helpers';
import { gzipSync } from 'node:zlib';
import { generatedTar, smallTar, tarHeader, TarDigest } from './support/tar';

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
  // A short progress window, for the stalled and dripping clients (clients here otherwise read and write
  // at once), and a CopyTo limit of 24 MiB unpacked (the largest copy here is 16 MiB).
  server = await startTestServer({
    EXEC_AUTH_TOKEN: ADMIN,
    EXEC_AUTH_TOKENS_FILE: tokensFile,
    EXEC_COPY_STALL_MS: '2000',
    EXEC_COPY_MAX_BYTES: String(24 << 20),
  });
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

/** docker inspect of a container (the test's by default) answers within 3 s (it waits while Docker holds the container's lock). */
const inspectAnswers = (id = containerId) =>
  promisify(execFile)('docker', ['inspect', '--format', '{{.State.Running}}', id], { encoding: 'utf8', timeout: 3000 }).then(
    (r) => r.stdout.trim() === 'true',
    () => false,
  );

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

describe('a file that changes while it is copied', () => {
  it('a file truncated while CopyFrom streams it ends the copy with ABORTED naming the entry, never OK with a short tar', async () => {
    await inContainer('head -c 33554432 /dev/urandom > /tmp/shrinks');
    const shrinker = server.client.exec(containerId, { command: ['sh', '-c', 'read go; truncate -s 1048576 /tmp/shrinks; echo truncated'], openStdin: true });
    await shrinker.ready;
    const raw = server.connection.getClient();
    const call = raw.CopyFrom({ container_id: containerId, path: '/tmp/shrinks' }, server.connection.getMetadata());
    const received: Buffer[] = [];
    const end = new Promise<ServiceError | null>((resolve) => {
      call.on('error', resolve);
      call.on('end', () => resolve(null));
    });
    // The stat, then nothing read: Docker's stream stops (flow control) with most of the file unread.
    await new Promise((resolve) => call.once('data', resolve));
    call.pause();
    // The truncation comes from a process already running: a new exec would wait for Docker's lock on
    // the container, which the copy holds.
    await shrinker.write(Buffer.from('go\n'));
    expect((await shrinker.collect()).stdout.toString()).toBe('truncated\n');
    call.on('data', (m: { tar?: Buffer }) => m.tar && received.push(m.tar));
    call.resume();
    const err = await end;
    expect(err && { code: Code[err.code], details: err.details }).toEqual({
      code: 'ABORTED',
      details: expect.stringMatching(
        /^archive of \/tmp\/shrinks in container \w+ is incomplete: entry "shrinks" ended after \d+ of its 33554432 bytes; the file changed while it was copied/,
      ),
    });
    expect(Buffer.concat(received).length).toBeLessThan(33554432);
  });
});

describe('hostile archives and clients', () => {
  const expectCode = async (p: Promise<unknown>, code: Code, text: RegExp) => {
    const e = await grpcError(p);
    expect({ code: Code[e.code], details: e.details }).toEqual({ code: Code[code], details: expect.stringMatching(text) });
  };
  /** The names in a container directory, sorted. */
  const listing = async (dir: string) => (await inContainer(`ls -A ${dir}`)).split('\n').filter(Boolean).sort();
  /** A unary call on the raw client, failing with DEADLINE_EXCEEDED after `ms` rather than waiting on. */
  const unary = (method: 'ContainerStatus' | 'ContainerPause' | 'ContainerSignal', req: object, ms = 10_000) =>
    new Promise((resolve, reject) => {
      const raw = server.connection.getClient() as unknown as Record<string, (...a: unknown[]) => void>;
      raw[method](req, server.connection.getMetadata(), { deadline: Date.now() + ms }, (err: ServiceError | null, v: unknown) =>
        err ? reject(err) : resolve(v),
      );
    });

  it('while a copy holds the container, status, pause and signal of it fail at once naming the copy; a client that then sends empty messages and single bytes is ended ABORTED naming the minimum rate; no partial file is left', async () => {
    await inContainer('mkdir -p /tmp/drip');
    const raw = server.connection.getClient();
    let feed: NodeJS.Timeout | undefined;
    let to: ReturnType<typeof raw.CopyTo> | undefined;
    try {
      const ended = new Promise<ServiceError | null>((resolve) => {
        to = raw.CopyTo(server.connection.getMetadata(), (err: ServiceError | null) => resolve(err));
        to.write({ header: { container_id: containerId, path: '/tmp/drip' } });
        to.write({ tar: tarHeader('dripped', 1 << 20) });
        // 80 KiB/s, above the minimum rate (16 KiB/s): the copy goes on, and Docker holds the container's lock.
        feed = setInterval(() => to!.write({ tar: Buffer.alloc(8192, 1) }), 100);
      });
      const busy = /container \w+ is busy: Docker holds its lock while a CopyTo into it runs/;
      await waitUntil(
        'ContainerStatus to say the copy holds the container',
        // (A call that reached Docker just as the copy began waits for it: 2 s each, then the next.)
        () =>
          unary('ContainerStatus', { container_id: containerId }, 2000).then(
            () => false,
            (e: ServiceError) => e.code === Code.UNAVAILABLE && busy.test(e.details),
          ),
        15_000,
      );
      await expectCode(unary('ContainerPause', { container_id: containerId }), Code.UNAVAILABLE, busy);
      await expectCode(unary('ContainerSignal', { container_id: containerId, signal: 'SIGCONT' }), Code.UNAVAILABLE, busy);
      // Now empty messages and single bytes only, every 100 ms: far below the minimum rate.
      clearInterval(feed);
      let n = 0;
      feed = setInterval(() => to!.write({ tar: n++ % 2 ? Buffer.from('x') : Buffer.alloc(0) }), 100);
      const err = await Promise.race([ended, new Promise<'still open after 20 s'>((resolve) => setTimeout(() => resolve('still open after 20 s'), 20_000))]);
      expect(typeof err === 'string' || !err ? err : { code: Code[err.code], details: err.details }).toEqual({
        code: 'ABORTED',
        details: expect.stringMatching(/EXEC_COPY_MIN_BYTES_PER_SECOND.*the part of \/tmp\/drip\/dripped it had unpacked was removed$/),
      });
      await waitUntil('docker inspect answering once the copy ended', () => inspectAnswers(), 30_000);
      expect(await listing('/tmp/drip')).toEqual([]); // the partial file was removed
      expect((await new ControlClient(server.connection).status(containerId)).status).toBe('running');
    } finally {
      clearInterval(feed);
      to?.cancel();
    }
  });

  it('device entries are refused (INVALID_ARGUMENT naming the entry) before Docker sees them; the entries before stay whole, none after is unpacked', async () => {
    await inContainer('mkdir -p /tmp/dev');
    for (const [type, name] of [
      ['3', 'char-null'],
      ['4', 'block-loop'],
    ]) {
      const tar = Buffer.concat([
        smallTar({ 'before.txt': 'before\n' }).subarray(0, 1024),
        tarHeader(name, 0, 0o666, type, { major: type === '3' ? 1 : 7, minor: 3 }),
        smallTar({ 'after.txt': 'after\n' }),
      ]);
      await expectCode(files.copyTo(containerId, '/tmp/dev', [tar]), Code.INVALID_ARGUMENT, new RegExp(`"${name}" is a (char|block) device`));
      expect(await listing('/tmp/dev')).toEqual(['before.txt']);
      expect(await inContainer('cat /tmp/dev/before.txt')).toBe('before\n');
    }
  });

  it('a gzip archive unpacks byte-exactly and counts what it unpacks: one that expands past EXEC_COPY_MAX_BYTES is refused at that entry, leaving nothing of it', async () => {
    await inContainer('mkdir -p /tmp/gz');
    const source = generatedTar('gz.bin', 3 << 20);
    const plain = Buffer.concat([...source.tar]);
    const gz = gzipSync(plain);
    expect(await files.copyTo(containerId, '/tmp/gz', [gz])).toEqual({ bytesReceived: gz.length });
    expect((await inContainer('sha256sum /tmp/gz/gz.bin')).split(' ')[0]).toBe(source.sha256());
    // 32 MiB of zeros in 33 KB: a third past the 24 MiB this server unpacks per copy.
    const bomb = gzipSync(
      Buffer.concat([smallTar({ 'small.txt': 'small\n' }).subarray(0, 1024), tarHeader('bomb.bin', 32 << 20), Buffer.alloc(32 << 20), Buffer.alloc(1024)]),
    );
    expect(bomb.length).toBeLessThan(100_000);
    await expectCode(files.copyTo(containerId, '/tmp/gz', [bomb]), Code.RESOURCE_EXHAUSTED, /entry "bomb\.bin" .*EXEC_COPY_MAX_BYTES/);
    expect(await listing('/tmp/gz')).toEqual(['gz.bin', 'small.txt']);
  });

  it('archives compressed otherwise (bzip2, xz) are INVALID_ARGUMENT naming the compression', async () => {
    await expectCode(files.copyTo(containerId, '/tmp', [Buffer.from('BZh91AY&SY' + 'x'.repeat(100))]), Code.INVALID_ARGUMENT, /bzip2/);
    await expectCode(
      files.copyTo(containerId, '/tmp', [Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(100)])]),
      Code.INVALID_ARGUMENT,
      /xz/,
    );
  });

  it('a tar that ends inside an entry is INVALID_ARGUMENT naming it, and the partial file is removed', async () => {
    await inContainer('mkdir -p /tmp/cut');
    const tar = Buffer.concat([smallTar({ 'whole.txt': 'whole\n' }).subarray(0, 1024), tarHeader('cut.bin', 1 << 20), Buffer.alloc(100_000, 2)]);
    await expectCode(files.copyTo(containerId, '/tmp/cut', [tar]), Code.INVALID_ARGUMENT, /entry "cut\.bin" ended after 100000 of its 1048576 bytes/);
    expect(await listing('/tmp/cut')).toEqual(['whole.txt']);
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

  it('a path over 4096 bytes, or with a component over 255, is INVALID_ARGUMENT both ways', async () => {
    const long = '/tmp/' + 'd/'.repeat(2046); // 4097 bytes
    const component = '/tmp/' + 'c'.repeat(256);
    for (const path of [long, component]) {
      await expectCode(entriesOf(path), Code.INVALID_ARGUMENT, /path/);
      await expectCode(files.copyTo(containerId, path, [smallTar({ x: 'x' })]), Code.INVALID_ARGUMENT, /path/);
    }
    // At the limits: a 255-byte component is a path like any other (here one that does not exist).
    // (the path is quoted cut short, with its length: 260 bytes)
    await expectCode(entriesOf('/tmp/' + 'c'.repeat(255)), Code.NOT_FOUND, /"\/tmp\/c{16}.*…" \(260 bytes\)/);
  });

  it('CopyTo into a container with a read-only root file system is FAILED_PRECONDITION, its tmpfs /tmp included', async () => {
    const ro = server.client.run(BASE_IMAGE, { command: ['sleep', '600'], readOnlyRootfs: true });
    const { containerId: roId } = await ro.ready;
    for (const dir of ['/tmp', '/etc']) await expectCode(files.copyTo(roId, dir, [smallTar({ x: 'x' })]), Code.FAILED_PRECONDITION, /read-only/);
    ro.cancel();
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

  it('a stalled client ends its copy with ABORTED and frees the container, which Docker locks while an archive request is open', async () => {
    // A container of its own: its 32 MiB file and Docker's lock on it stay out of the other tests' way.
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
      await waitUntil('docker inspect answering while the CopyFrom client stalls', () => inspectAnswers(containerId), 30_000);
      from.on('data', () => undefined);
      from.resume();
      const fromErr = await fromEnd;
      expect({ code: Code[fromErr.code], details: fromErr.details }).toEqual({ code: 'ABORTED', details: expect.stringMatching(/EXEC_COPY_STALL_MS/) });
    } finally {
      // Whatever failed above, the service sees both cancels (its loop is not blocked meanwhile: the
      // docker CLI runs asynchronously) and lets go of Docker before the suite's synchronous clean-up.
      to?.cancel();
      from.cancel();
      await waitUntil('docker inspect answering once both calls are cancelled', () => inspectAnswers(containerId), 30_000);
      holder.cancel();
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

describe('CopyTo backpressure', () => {
  let docker: HangingDocker;
  let held: TestServer;
  beforeAll(async () => {
    // Docker that never takes the archive's body (a real proxy in front of the engine holding that request).
    docker = new HangingDocker();
    // A copy waiting on Docker (not on its client) is bounded by EXEC_COPY_MAX_MS, here 3 s; Docker then has
    // EXEC_DOCKER_TIMEOUT_MS (here 5 s) to answer before its request is abandoned and the call answered.
    held = await startTestServer({ DOCKER_HOST: await docker.listen(), EXEC_COPY_STALL_MS: '2000', EXEC_COPY_MAX_MS: '3000', EXEC_DOCKER_TIMEOUT_MS: '5000' });
  });
  afterAll(async () => {
    await held?.close();
    await docker?.close();
    removeContainers(docker?.created ?? []);
  });

  it('the server reads the call only as fast as Docker takes the bytes: of 64 MiB offered, a few MiB are taken, then EXEC_COPY_MAX_MS ends it', async () => {
    const holder = held.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
    const { containerId: id } = await holder.ready;
    docker.hang('PUT', /^\/containers\/[0-9a-f]+\/archive$/);
    const raw = held.connection.getClient();
    let accepted = 0;
    let ended: ServiceError | null | undefined;
    const call = raw.CopyTo(held.connection.getMetadata(), (err: ServiceError | null) => (ended = err));
    const done = new Promise<void>((resolve) => call.on('status', () => resolve()));
    call.write({ header: { container_id: id, path: '/tmp' } });
    // A valid archive's start: one entry of 64 MiB, its bytes to follow.
    call.write({ tar: tarHeader('big.bin', 64 << 20) });
    const chunk = Buffer.alloc(64 * 1024, 1);
    // As a fast client writes: as long as grpc-js takes them (write() true), else once it drains; until the call ends.
    for (let i = 0; i < 1024 && ended === undefined; i++) {
      const more = call.write({ tar: chunk }, () => (accepted += chunk.length));
      if (!more) await Promise.race([new Promise((r) => call.once('drain', r)), done]);
    }
    await done;
    // Ended by the copy's time limit (Docker took nothing more; the client was not the slow one), not by a client that gave up.
    expect({ code: Code[ended!.code], details: ended!.details }).toEqual({ code: 'ABORTED', details: expect.stringMatching(/EXEC_COPY_MAX_MS/) });
    // 1 MiB held by the server, the rest HTTP/2 windows and socket buffers; without backpressure all 64 MiB would be taken.
    expect(accepted).toBeLessThan(8 * 1024 * 1024);
    expect(docker.held).toEqual([expect.objectContaining({ method: 'PUT' })]);
    docker.answerAll();
    holder.cancel();
  });
});
