/**
 * The client package as a consumer gets it: `npm pack` of packages/client (prepack builds it), the
 * tarball installed into a fresh project outside the repository (from npm's local cache, no registry
 * needed), programs compiled there with tsc against the installed declarations and run with node
 * against the real service: run, attach by session id, ContainerStatus, ContainerLifecycle, and the
 * Nest module through the optional peer dependencies.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { sha256 } from './support/helpers';

const ROOT = join(__dirname, '..');
const PKG = join(ROOT, 'packages', 'client');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TOKEN = 'client-package-token-0123456789abcdef';
const version = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** npm without jest's NODE_OPTIONS, failing with its output. */
function npm(args: string[], cwd: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  delete env.NODE_OPTIONS;
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Runs a compiled consumer program with the project's Node (asynchronously: the service under test
 * runs in this process): its exit code and its last stdout line as JSON.
 */
async function runProgram(file: string, server: TestServer) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(NODE, [file, server.address, TOKEN, BASE_IMAGE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const lines = stdout.trim().split('\n');
  if (code === null || !lines[lines.length - 1].startsWith('{')) throw new Error(`${file} failed (${code}):\n${stdout}\n${stderr}`);
  return { code, out: JSON.parse(lines[lines.length - 1]) };
}

/** tsc of the consumer project (both programs), once, with the project's Node and the repository's typescript. */
let compiled = false;
function compile(): void {
  if (compiled) return;
  try {
    execFileSync(NODE, [TSC, '-p', app], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    throw new Error(`the consumer project does not compile:\n${String((err as { stdout?: string }).stdout)}`, { cause: err });
  }
  compiled = true;
}

let server: TestServer;
let tmp: string;
let app: string;
let tarball: string;
beforeAll(async () => {
  server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN });
  tmp = mkdtempSync(join(tmpdir(), 'client-package-e2e-'));
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp], PKG)) as { filename: string }[];
  tarball = join(tmp, packed.filename);
  app = join(tmp, 'consumer');
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // The package and, for the Nest program, its optional peers: all from npm's cache (the repository installed them).
  // --offline first (npm ci filled the cache: no network at all); --prefer-offline if the cache misses something.
  const install = ['install', '--no-package-lock', tarball, ...['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata'].map((n) => `${n}@${version(n)}`)];
  try {
    npm(['--offline', ...install], app);
  } catch {
    npm(['--prefer-offline', ...install], app);
  }
  for (const f of ['main.mts', 'nest.mts']) copyFileSync(join(__dirname, 'support', 'client-package-consumer', f), join(app, 'src', f));
  // typescript and @types/node from the repository by path: the consumer project fetches nothing for them.
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        target: 'es2022',
        strict: true,
        outDir: 'dist',
        rootDir: 'src',
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        // The declarations are tsc's own output; checking all of node_modules' .d.ts again would double the time.
        skipLibCheck: true,
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        types: ['node'],
      },
      include: ['src'],
    }),
  );
}, 120_000);
afterAll(async () => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  await server?.close();
});

it('packs dist with declarations, the proto, README and package.json; no sources, specs or build state', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  expect(files).toEqual(
    expect.arrayContaining([
      'package/package.json',
      'package/README.md',
      'package/proto/exec.proto',
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/dist/wire.d.ts',
      'package/dist/nest/index.js',
      'package/dist/nest/index.d.ts',
    ]),
  );
  expect(files.filter((f) => f.startsWith('package/src/') || /\.spec\.|tsbuildinfo/.test(f))).toEqual([]);
  expect(readFileSync(join(app, 'node_modules', '@exec-stream', 'client', 'proto', 'exec.proto'))).toEqual(readFileSync(join(ROOT, 'proto', 'exec.proto')));
  const installed = JSON.parse(readFileSync(join(app, 'node_modules', '@exec-stream', 'client', 'package.json'), 'utf8'));
  expect(Object.keys(installed.dependencies).sort()).toEqual(expect.arrayContaining(['@grpc/grpc-js', '@grpc/proto-loader']));
  expect(Object.keys(installed.peerDependenciesMeta).sort()).toEqual(['@nestjs/common', '@nestjs/core', 'rxjs']);
});

it('the main and wire entries load with require() and never touch the optional peers (@nestjs/*, rxjs)', () => {
  // A resolver hook that fails any load of a peer: a consumer without Nest must be able to use the client.
  const script = `const M = require('node:module'); const r = M._resolveFilename;
    M._resolveFilename = function (s, ...a) { if (/^(@nestjs\\/|rxjs)/.test(s)) throw new Error('peer loaded: ' + s); return r.call(this, s, ...a); };
    const c = require('@exec-stream/client'); const w = require('@exec-stream/client/wire');
    console.log(JSON.stringify([typeof c.ExecClient, typeof c.ResumingSession, typeof c.ControlClient, w.PROTO_LOADER_OPTIONS.longs === String, require('node:fs').existsSync(w.execProtoPath())]));`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  expect(JSON.parse(execFileSync(NODE, ['-e', script], { cwd: app, env, encoding: 'utf8' }))).toEqual(['function', 'function', 'function', true, true]);
});

it('a fresh project compiles a program against the installed package and runs it: run with stdin, attach, status, lifecycle', async () => {
  compile();
  expect(existsSync(join(app, 'dist', 'main.mjs'))).toBe(true);
  const { code, out } = await runProgram(join(app, 'dist', 'main.mjs'), server);
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
  compile();
  const { code, out } = await runProgram(join(app, 'dist', 'nest.mjs'), server);
  expect(out).toEqual({ stdout: 'from-nest\n', exitCode: 6 });
  expect(code).toBe(6);
});
