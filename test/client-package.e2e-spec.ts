/**
 * The client package as a consumer gets it: `npm pack` of packages/client (prepack builds it), the
 * tarball installed into a fresh project outside the repository (from npm's local cache, no registry
 * needed), programs compiled there with tsc against the installed declarations and run with node
 * against the real service: run, attach by session id, ContainerStatus, ContainerLifecycle, and the
 * Nest module through the optional peer dependencies. The CLI installed from the tarball, as CLI.md
 * says. And every TypeScript snippet of the docs, compiled as written in a CommonJS and an ES module
 * project against that package and the real Nest 12 packages, the runnable ones run (docs/TOOLCHAIN.md).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { sha256 } from './support/helpers';
import { compileConsumer, NODE, packedClient, ROOT, runProgram, TSC, type PackedClient } from './support/packed-client';
import { docCommands, programSource, snippets, typescriptPrograms, type SnippetProgram } from './support/doc-snippets';
import { RUNNABLE_SNIPPETS } from './support/doc-snippet-harnesses';

const TOKEN = 'client-package-token-0123456789abcdef';

let server: TestServer;
let packed: PackedClient;
let app: string;
let tarball: string;
let tmp: string;
let compiled: string | undefined;
/** tsc of the consumer project (both programs), once. */
const consumer = () => (compiled ??= compileConsumer(packed, 'client-package', ['main.mts', 'nest.mts']));

beforeAll(async () => {
  server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN });
  packed = packedClient();
  app = packed.app;
  tarball = packed.tarball;
  tmp = mkdtempSync(join(tmpdir(), 'client-package-e2e-'));
}, 180_000);
afterAll(async () => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  await server?.close();
});

it("the README's install: `npm install @exec-stream/client` from a registry; here its stand-in, the tarball npm pack makes, by the name the README gives", () => {
  const documented = docCommands(['packages/client/README.md']).map((c) => c.command);
  expect(documented).toEqual(['npm install @exec-stream/client', 'npm install ./exec-stream-client-0.1.0.tgz']);
  expect(documented[1]).toBe(`npm install ./${basename(tarball)}`);
  // beforeAll installed that tarball (offline) into the consumer project: the package is there, as a registry install would put it.
  expect(JSON.parse(readFileSync(join(app, 'node_modules', '@exec-stream', 'client', 'package.json'), 'utf8')).name).toBe('@exec-stream/client');
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

it('CLI.md: `npm install -g` of the packed tarball puts an exec-stream on the PATH that runs a command (on the system Node too)', async () => {
  const command = 'npm install -g exec-stream-client-*.tgz';
  expect(docCommands(['docs/CLI.md']).map((c) => c.command)).toContain(command);
  const prefix = join(tmp, 'global');
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  delete env.NODE_OPTIONS;
  // The command as written, in a folder holding the tarball; the prefix keeps the machine's own global folder out of it.
  copyFileSync(tarball, join(tmp, basename(tarball)));
  await promisify(execFile)('bash', ['-c', command], { cwd: tmp, env });
  const cli = join(prefix, 'bin', 'exec-stream');
  // The bin's `#!/usr/bin/env node` takes the first node on PATH: the machine's (Node 20, the package's minimum).
  const systemPath = (process.env.PATH ?? '')
    .split(':')
    .filter((d) => !d.includes('node_modules'))
    .join(':');
  const run = spawn(cli, ['--addr', server.address, '--token', TOKEN, 'run', BASE_IMAGE, 'sh', '-c', 'echo hi; exit 3'], {
    env: { ...env, PATH: systemPath },
  });
  let out = '';
  run.stdout.on('data', (d: Buffer) => (out += d.toString()));
  run.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => run.once('close', resolve));
  expect({ code, out }).toEqual({ code: 3, out: 'hi\n' });
});

type Kind = 'commonjs' | 'esm';
const KINDS: Kind[] = ['commonjs', 'esm'];

describe('the docs: every TypeScript snippet compiles as written (strict, CommonJS and ES module projects), the runnable ones run', () => {
  const programs = typescriptPrograms();
  /** Per project kind: tsc's diagnostics mapped to the documents' lines. */
  const diagnostics: Record<Kind, string[]> = { commonjs: [], esm: [] };
  /** Per runnable entry of RUNNABLE_SNIPPETS: the compiled file to run. */
  const entries = new Map<number, string>();

  const runnableIndex = (p: SnippetProgram) => RUNNABLE_SNIPPETS.findIndex((r) => r.doc === p.parts[0].doc && r.heading === p.parts[0].heading);

  beforeAll(async () => {
    await Promise.all(
      KINDS.map(async (kind) => {
        const dir = join(app, `docs-${kind}`);
        rmSync(dir, { recursive: true, force: true }); // the consumer project is reused across runs
        mkdirSync(join(dir, 'src'), { recursive: true });
        // The consumer folder says "type": "module"; the CommonJS project says otherwise for its own.
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `docs-${kind}`, private: true, type: kind === 'esm' ? 'module' : 'commonjs' }));
        writeFileSync(
          join(dir, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              module: kind === 'esm' ? 'nodenext' : 'commonjs',
              target: 'es2022',
              strict: true,
              outDir: 'dist',
              rootDir: 'src',
              experimentalDecorators: true,
              emitDecoratorMetadata: true,
              skipLibCheck: true,
              typeRoots: [join(ROOT, 'node_modules', '@types')],
              // CLIENTS.md "Testing your service" shows Jest specs, as a user's would be: Jest's globals.
              types: ['node', 'jest'],
            },
            include: ['src'],
          }),
        );
        const origins = new Map<string, Array<{ doc: string; line: number } | undefined>>();
        for (const p of programs) {
          const r = runnableIndex(p);
          const runHere = r >= 0 && RUNNABLE_SNIPPETS[r].kind === kind;
          const rel = runHere ? `run-${r}/snippet.ts` : `${p.name}.ts`;
          const { text, origin } = programSource(p, kind);
          mkdirSync(join(dir, 'src', rel, '..'), { recursive: true });
          writeFileSync(join(dir, 'src', rel), text);
          origins.set(`src/${rel}`, origin);
          if (runHere) {
            const harness = RUNNABLE_SNIPPETS[r].harness;
            if (harness) writeFileSync(join(dir, 'src', `run-${r}`, 'main.ts'), harness);
            entries.set(r, join(dir, 'dist', `run-${r}`, harness ? 'main.js' : 'snippet.js'));
          }
        }
        try {
          await promisify(execFile)(NODE, [TSC, '-p', dir], { cwd: dir, encoding: 'utf8' });
        } catch (err) {
          const out = String((err as { stdout?: string }).stdout ?? err);
          // src/x.ts(12,5): error TS2322: … → docs/CLIENTS.md:33:5 TS2322: …
          diagnostics[kind] = out
            .split('\n')
            .filter((l) => /error TS\d+/.test(l))
            .map((l) => {
              const m = /^(\S+)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(l);
              const at = m && origins.get(m[1])?.[Number(m[2]) - 1];
              return at ? `${at.doc}:${at.line}:${m[3]} ${m[4]}` : l;
            });
          if (!diagnostics[kind].length) diagnostics[kind] = [out];
        }
      }),
    );
  }, 180_000);

  it('finds the snippets: every TypeScript block is a complete program or a fragment marked as one', () => {
    const ts = snippets().filter((s) => s.lang === 'ts');
    expect(ts.length).toBeGreaterThanOrEqual(9);
    expect(programs.flatMap((p) => p.parts)).toHaveLength(ts.length);
    // Every runnable entry names a section that still has its snippet.
    for (const r of RUNNABLE_SNIPPETS)
      expect({ ...r, found: programs.some((p) => p.parts[0].doc === r.doc && p.parts[0].heading === r.heading) }).toMatchObject({ found: true });
  });

  it.each(KINDS)('%s project: all of them compile under strict against the packed package and Nest 12', (kind) => {
    expect(diagnostics[kind]).toEqual([]);
  });

  /** Runs a compiled doc program against the service; its exit code, stdout and last JSON line. */
  async function runDoc(r: number, args: string[] = []) {
    const file = entries.get(r);
    if (!file || !existsSync(file))
      throw new Error(`${RUNNABLE_SNIPPETS[r].doc} "${RUNNABLE_SNIPPETS[r].heading}" was not compiled: ${diagnostics[RUNNABLE_SNIPPETS[r].kind].join('\n')}`);
    const env: NodeJS.ProcessEnv = { ...process.env, EXEC_ADDR: server.address, EXEC_AUTH_TOKEN: TOKEN };
    delete env.NODE_OPTIONS;
    delete env.EXEC_TLS_CA; // CLIENTS.md's optional CA: unset
    const child = spawn(NODE, [file, ...args], { cwd: join(file, '..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A program that does not end by itself (a channel left open) is a failure of the snippet.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    if (code === null) throw new Error(`${file} did not end within 60 s:\n${stdout}\n${stderr}`);
    const last = stdout.trim().split('\n').pop() ?? '';
    return { code, stdout, stderr, json: last.startsWith('{') ? JSON.parse(last) : undefined };
  }
  const runnable = (doc: string, heading: string) => RUNNABLE_SNIPPETS.findIndex((r) => r.doc === doc && r.heading === heading);

  it('README "Use it" runs as a script: the output, the exit code, a second client, and the program ends', async () => {
    const { code, stdout, stderr } = await runDoc(runnable('README.md', 'Use it'));
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'hi\nexit 3\n', stderr: '' });
  });

  it('CLIENTS.md 1: forRootAsync with the real ConfigService, EXEC_TLS_CA unset (plaintext); Jobs.run streams and returns the exit code; a signal with enableShutdownHooks() closes the channel', async () => {
    const { code, stdout, stderr, json } = await runDoc(runnable('docs/CLIENTS.md', '1. ExecClientModule (recommended)'));
    expect({ code, stdout, stderr, json }).toEqual({
      code: 0,
      stdout: 'from-jobs\n{"code":5,"channel":"SHUTDOWN"}\n',
      stderr: 'to-stderr\n',
      json: { code: 5, channel: 'SHUTDOWN' },
    });
  });

  it('CLIENTS.md 2: Runner.run is one process for two subscribers, leaves no client behind (refCount); ListSessions, CopyTo, CopyFrom typed', async () => {
    const tarDir = join(tmp, 'doc-tar');
    mkdirSync(tarDir, { recursive: true });
    writeFileSync(join(tarDir, 'doc.txt'), 'copied by the doc recipe\n');
    execFileSync('tar', ['-cf', join(tmp, 'doc.tar'), '-C', tarDir, 'doc.txt']);
    const { code, json, stderr } = await runDoc(runnable('docs/CLIENTS.md', "2. Nest's ClientsModule (Transport.GRPC)"), [join(tmp, 'doc.tar')]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(json).toEqual({
      sameSession: true,
      stdout: 'shared\n',
      exit: 4,
      lastMsg: 'exit',
      attachedAfterUnsubscribe: 0,
      bytesReceived: String(readFileSync(join(tmp, 'doc.tar')).length),
      statName: 'doc.txt',
      tarHoldsText: true,
    });
  });

  it("CLIENTS.md's Jest command: a spec booting ExecClientModule through @nestjs/testing fails without the flag, passes with it", async () => {
    const command = snippets(['docs/CLIENTS.md'])
      .find((s) => s.lang === 'sh' && /jest/.test(s.code))
      ?.code.trim();
    expect(command).toBe('NODE_OPTIONS=--experimental-vm-modules npx jest');
    const dir = join(app, 'jest-recipe');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'jest-recipe', private: true, type: 'commonjs', jest: { transform: {}, testEnvironment: 'node' } }),
    );
    writeFileSync(
      join(dir, 'boot.test.js'),
      `const { Test } = require('@nestjs/testing');
const { ExecClient } = require('@exec-stream/client');
const { ExecClientModule } = require('@exec-stream/client/nest');
test('an injected ExecClient runs a command', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [ExecClientModule.forRoot({ address: process.env.EXEC_ADDR, token: process.env.EXEC_AUTH_TOKEN })],
  }).compile();
  const { stdout, exitCode } = await moduleRef.get(ExecClient).run(process.env.JOB_IMAGE, { command: ['sh', '-c', 'echo in-jest; exit 2'] }).collect();
  await moduleRef.close();
  expect([stdout.toString(), exitCode]).toEqual(['in-jest\\n', 2]);
});
`,
    );
    // `npx jest` finds jest in the project's node_modules/.bin: the repository's, linked (nothing fetched).
    const bin = join(app, 'node_modules', '.bin');
    mkdirSync(bin, { recursive: true });
    // Made anew each time: the consumer project is cached across checkouts (by the package's content),
    // and a link into a checkout since removed dangles (existsSync says no, symlinkSync says EEXIST).
    rmSync(join(bin, 'jest'), { force: true });
    symlinkSync(join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), join(bin, 'jest'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, // Node 24
      EXEC_ADDR: server.address,
      EXEC_AUTH_TOKEN: TOKEN,
      JOB_IMAGE: BASE_IMAGE,
      npm_config_update_notifier: 'false',
      npm_config_offline: 'true',
    };
    delete env.NODE_OPTIONS;
    const sh = (cmd: string) =>
      promisify(execFile)('bash', ['-c', cmd], { cwd: dir, env, encoding: 'utf8' }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
      );
    const without = await sh(command!.replace(/^NODE_OPTIONS=\S+ /, ''));
    expect(without.code).not.toBe(0);
    expect(without.out).toContain('Must use import to load ES Module');
    const withFlag = await sh(command!);
    expect({ code: withFlag.code, passed: /Tests:\s+1 passed, 1 total/.test(withFlag.out) }).toEqual({ code: 0, passed: true });
  });
});
