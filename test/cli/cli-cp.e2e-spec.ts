// `exec-stream cp` (docs/CLI.md, "Copying files"), built, run as a child process against the real
// service (real gRPC on loopback, real Docker, GNU tar): files and directories in and out, byte-exact
// (sha256), docker's destination rules, and its failures as one line with exit 125.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, cliEnv, runCli, startCli } from '../support/cli';
import { waitUntil } from '../support/conditions';
import { sha256 } from '../support/helpers';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { TarDigest } from '../support/tar';

let server: TestServer;
let env: NodeJS.ProcessEnv;
let containerId: string;
let dir: string;
const cli = (args: string[], input?: Buffer | string) => runCli(['cp', ...args], env, input);

beforeAll(async () => {
  buildCli();
  server = await startTestServer();
  env = cliEnv({ EXEC_ADDR: server.address });
  containerId = (await server.client.run(BASE_IMAGE, { command: ['sleep', '600'] }).ready).containerId;
  dir = mkdtempSync(join(tmpdir(), 'exec-stream-cli-cp-'));
});
afterAll(async () => {
  await server?.close(); // removes the container
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `script` in the test's container and returns its stdout (exit code 0 required). */
async function inContainer(script: string): Promise<string> {
  const r = await server.client.exec(containerId, { command: ['sh', '-c', script] }).collect();
  expect({ exitCode: r.exitCode, stderr: r.stderr.toString() }).toEqual({ exitCode: 0, stderr: '' });
  return r.stdout.toString();
}

/** A CLI run that must succeed: exit 0, nothing on stderr; its stdout. */
async function ok(args: string[], input?: Buffer): Promise<Buffer> {
  const r = await cli(args, input);
  expect({ code: r.code, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: '' });
  return r.stdout;
}

/** The entries of a tar stream (name, type, size, sha256 of the content). */
function entriesOf(tar: Buffer) {
  const digest = new TarDigest();
  digest.end(tar);
  return digest.entries;
}

it('32 MiB of random bytes go in and come out byte-exactly (sha256): as local files, and as tar streams on stdin / stdout', async () => {
  const size = 32 * 1024 * 1024;
  const content = randomBytes(size);
  const digest = sha256(content);
  writeFileSync(join(dir, 'big.bin'), content);

  // Local file → a missing container path: the file takes that name (a unique id prefix names the container).
  await ok([join(dir, 'big.bin'), `${containerId.slice(0, 12)}:/tmp/in.bin`]);
  expect(await inContainer('sha256sum /tmp/in.bin')).toBe(`${digest}  /tmp/in.bin\n`);
  // Container file → a missing local path.
  await ok([`${containerId}:/tmp/in.bin`, join(dir, 'out.bin')]);
  expect(sha256(readFileSync(join(dir, 'out.bin')))).toBe(digest);

  // `-` as the destination: the tar stream of the path on stdout, its one entry the file.
  const tar = await ok([`${containerId}:/tmp/in.bin`, '-']);
  expect(entriesOf(tar)).toEqual([{ name: 'in.bin', type: '0', size, sha256: digest }]);
  // `-` as the source: that tar stream from stdin, unpacked into the directory.
  await inContainer('mkdir /tmp/from-stdin');
  await ok(['-', `${containerId}:/tmp/from-stdin`], tar);
  expect(await inContainer('sha256sum /tmp/from-stdin/in.bin')).toBe(`${digest}  /tmp/from-stdin/in.bin\n`);
});

it('a directory of two files round-trips; an existing directory receives it inside, a missing path becomes it, DIR/. is its contents', async () => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'a.txt'), 'alpha\n');
  writeFileSync(join(tree, 'sub', 'b.txt'), 'beta\n');
  const listing = 'alpha\n./a.txt\nbeta\n./sub/b.txt\n';
  const list = (path: string) => inContainer(`cd ${path} && for f in $(find . -type f | sort); do cat $f; echo $f; done`);

  await ok([tree, `${containerId}:/tmp`]); // existing: /tmp/tree
  await ok([tree, `${containerId}:/tmp/renamed`]); // missing: /tmp/renamed
  expect(await list('/tmp/tree')).toBe(listing);
  expect(await list('/tmp/renamed')).toBe(listing);

  const back = join(dir, 'back');
  await ok([`${containerId}:/tmp/tree`, back]); // missing: back/
  await ok([`${containerId}:/tmp/renamed`, back]); // existing: back/renamed/
  await ok([`${containerId}:/tmp/tree/.`, join(dir, 'contents')]); // the contents, as contents/
  for (const got of [back, join(back, 'renamed'), join(dir, 'contents')]) {
    expect([readFileSync(join(got, 'a.txt'), 'utf8'), readFileSync(join(got, 'sub', 'b.txt'), 'utf8')]).toEqual(['alpha\n', 'beta\n']);
  }
});

it('a container path that does not exist: exit 125, one line naming NOT_FOUND and the path', async () => {
  mkdirSync(join(dir, 'some-dir'), { recursive: true });
  const [from, into, noContainer] = await Promise.all([
    cli([`${containerId}:/no/such/file`, join(dir, 'never')]),
    cli([join(dir, 'some-dir'), `${containerId}:/no/such/dir/x`]),
    cli(['no-such-container:/tmp', '-']),
  ]);
  expect(from.code).toBe(125);
  expect(from.stderr.toString()).toMatch(/^exec-stream: cannot copy \S+:\/no\/such\/file to \S+: NOT_FOUND \(5\): [^\n]*\/no\/such\/file[^\n]*\n$/);
  expect(into.code).toBe(125);
  expect(into.stderr.toString()).toMatch(/^exec-stream: cannot copy .* NOT_FOUND \(5\): [^\n]*\/no\/such\/dir[^\n]*\n$/);
  expect(noContainer.code).toBe(125);
  expect(noContainer.stderr.toString()).toMatch(/^exec-stream: cannot copy no-such-container:\/tmp to -: NOT_FOUND \(5\): [^\n]*\n$/);
  expect(from.stdout.length + into.stdout.length + noContainer.stdout.length).toBe(0);
});

it('bad arguments: no CONTAINER: side, two containers, a directory onto a file: exit 125 with one clear line', async () => {
  writeFileSync(join(dir, 'a-file'), 'x');
  const [noContainer, twoContainers, dirOntoFile] = await Promise.all([
    cli([join(dir, 'a'), join(dir, 'b')]),
    cli([`${containerId}:/tmp/in.bin`, `${containerId}:/tmp/x`]),
    cli([`${containerId}:/tmp`, join(dir, 'a-file')]),
  ]);
  expect({ code: noContainer.code, stderr: noContainer.stderr.toString() }).toEqual({
    code: 125,
    stderr: 'exec-stream: one side of cp must be CONTAINER:PATH\n',
  });
  expect({ code: twoContainers.code, stderr: twoContainers.stderr.toString() }).toEqual({
    code: 125,
    stderr: 'exec-stream: copying between containers is not supported\n',
  });
  expect(dirOntoFile.code).toBe(125);
  expect(dirOntoFile.stderr.toString()).toMatch(/^exec-stream: cannot copy \S+ to \S+: cannot copy a directory to a file: \S+a-file\n$/);
});

it('a file truncated while it is copied out: exit 125 naming the entry, never exit 0 with a short archive', async () => {
  await inContainer('head -c 33554432 /dev/urandom > /tmp/shrinks');
  // The truncation comes from a process already running: a new exec would wait for Docker's lock on
  // the container, which the copy holds.
  const shrinker = server.client.exec(containerId, { command: ['sh', '-c', 'read go; truncate -s 1048576 /tmp/shrinks; echo truncated'], openStdin: true });
  await shrinker.ready;
  const cp = startCli(['cp', `${containerId}:/tmp/shrinks`, '-'], env);
  // Our end of the CLI's stdout is not read: the CLI, the call and Docker's stream stop with most of the file unread.
  cp.proc.stdout!.pause();
  await waitUntil('the archive streaming to the CLI', () => cp.proc.stdout!.readableLength > 0, 15_000);
  await shrinker.write(Buffer.from('go\n'));
  expect((await shrinker.collect()).stdout.toString()).toBe('truncated\n');
  cp.proc.stdout!.resume();
  const r = await cp.done;
  expect({ code: r.code, stderr: r.stderr.toString() }).toEqual({
    code: 125,
    // ABORTED from the service; DATA_LOSS when only the client's own check of the archive finds it.
    stderr: expect.stringMatching(
      /^exec-stream: cannot copy \S+:\/tmp\/shrinks to -: (ABORTED \(10\)|DATA_LOSS \(15\)): [^\n]*entry "shrinks" ended after \d+ of its 33554432 bytes[^\n]*\n$/,
    ),
  });
  expect(r.stdout.length).toBeLessThan(33554432);
});
