/**
 * The client package as a consumer gets it: `npm pack` of packages/client (prepack builds it), the
 * tarball installed into a fresh project outside the repository (from npm's local cache, no registry
 * needed), programs compiled there with tsc against the installed declarations and run with node
 * against the real service: run, attach by session id, ContainerStatus, ContainerLifecycle, and the
 * Nest module through the optional peer dependencies.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { sha256 } from './support/helpers';
import { compileConsumer, NODE, packedClient, ROOT, runProgram, type PackedClient } from './support/packed-client';

const TOKEN = 'client-package-token-0123456789abcdef';

let server: TestServer;
let packed: PackedClient;
let app: string;
let compiled: string | undefined;
/** tsc of the consumer project (both programs), once. */
const consumer = () => (compiled ??= compileConsumer(packed, 'client-package', ['main.mts', 'nest.mts']));

beforeAll(async () => {
  server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN });
  packed = packedClient();
  app = packed.app;
}, 180_000);
afterAll(async () => {
  await server?.close();
});

it('packs dist with declarations, the proto, README and package.json; no sources, specs or build state', () => {
  const files = execFileSync('tar', ['-tzf', packed.tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  expect(files).toEqual(
    expect.arrayContaining([
      'package/package.json',
      'package/README.md',
      'package/proto/exec.proto',
      'package/proto/google/rpc/status.proto',
      'package/proto/google/rpc/error_details.proto',
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/dist/wire.d.ts',
      'package/dist/nest/index.js',
      'package/dist/nest/index.d.ts',
      'package/dist/testing/index.js',
      'package/dist/testing/index.d.ts',
      'package/dist/testcontainers/index.js',
      'package/dist/testcontainers/index.d.ts',
    ]),
  );
  expect(files.filter((f) => f.startsWith('package/src/') || /\.spec\.|tsbuildinfo/.test(f))).toEqual([]);
  expect(readFileSync(join(app, 'node_modules', '@exec-stream', 'client', 'proto', 'exec.proto'))).toEqual(readFileSync(join(ROOT, 'proto', 'exec.proto')));
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', '@exec-stream', 'client', 'package.json'), 'utf8'));
  expect(Object.keys(installed.dependencies).sort()).toEqual(expect.arrayContaining(['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs']));
  expect(Object.keys(installed.peerDependenciesMeta).sort()).toEqual(['@nestjs/common', '@nestjs/core', 'rxjs', 'testcontainers']);
});

it('the main, wire and testing entries load with require() and never touch the optional peers (@nestjs/*, rxjs, testcontainers)', () => {
  // A resolver hook that fails any load of a peer: a consumer without Nest must be able to use the client.
  const script = `const M = require('node:module'); const r = M._resolveFilename;
    M._resolveFilename = function (s, ...a) { if (/^(@nestjs\\/|rxjs|testcontainers)/.test(s)) throw new Error('peer loaded: ' + s); return r.call(this, s, ...a); };
    const c = require('@exec-stream/client'); const w = require('@exec-stream/client/wire'); const t = require('@exec-stream/client/testing');
    console.log(JSON.stringify([typeof c.ExecClient, typeof c.ResumingSession, typeof c.ControlClient, typeof c.ExecError, c.Code.NOT_FOUND, typeof t.FakeExecClient,
      w.PROTO_LOADER_OPTIONS.longs === String, require('node:fs').existsSync(w.execProtoPath())]));`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  expect(JSON.parse(execFileSync(NODE, ['-e', script], { cwd: app, env, encoding: 'utf8' }))).toEqual([
    'function',
    'function',
    'function',
    'function',
    5,
    'function',
    true,
    true,
  ]);
});

it('a fresh project compiles a program against the installed package and runs it: run with stdin, attach, status, lifecycle', async () => {
  const dir = consumer();
  expect(existsSync(join(dir, 'dist', 'main.mjs'))).toBe(true);
  const { code, out } = await runProgram(join(dir, 'dist', 'main.mjs'), [server.address, TOKEN, BASE_IMAGE]);
  const stdout = sha256(Buffer.concat([Buffer.from('up\ngot hello\n'), Buffer.alloc(200_000, 'z')]));
  expect(out).toMatchObject({
    status: 'running',
    stdoutSha: stdout,
    stderr: 'e\n',
    exit: 4,
    attachStdoutSha: stdout,
    attachStderr: 'e\n',
    attachExit: 4,
    longs: true,
  });
  expect(out.events).toEqual(expect.arrayContaining(['started', 'exited']));
  expect(code).toBe(4);
});

it('the Nest module from @exec-stream/client/nest in that project: an injected ExecClient runs a command', async () => {
  const { code, out } = await runProgram(join(consumer(), 'dist', 'nest.mjs'), [server.address, TOKEN, BASE_IMAGE]);
  expect(out).toEqual({ stdout: 'from-nest\n', exitCode: 6 });
  expect(code).toBe(6);
});
