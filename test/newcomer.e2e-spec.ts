/**
 * The newcomer path (README's two commands and the scripts behind them), run for real: the setup lock
 * is not held by the Docker engine it started, the service runs on the project's Node 24 even when npm
 * hands scripts its own Node in $NODE, an older Node is refused with a message, and `npm run demo`
 * exits with the command's exit code (and with DEMO_KEEP_RUNNING=1 leaves the service up until Ctrl-C).
 * Then every other script in package.json, as written, with its cheapest arguments (`npm test` itself
 * excepted; the bench scripts are test/bench-smoke.e2e-spec.ts's).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/server';
import { runCommand, startCommand, summary, userEnv } from './support/commands';
import { waitUntil } from './support/conditions';

const ROOT = join(__dirname, '..');
const LOCK = '/tmp/exec-stream-setup.lock';

jest.setTimeout(240_000);

/** Pids of processes that have `file` open, from /proc (what `fuser` shows). */
function holders(file: string): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) {
          out.push({ pid: Number(pid), comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim() });
          break;
        }
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return out;
}

it('setup leaves its lock free: the Docker engine it started does not hold it', () => {
  // The test command ran scripts/setup.sh (and so docker-up.sh) before jest started.
  execFileSync('bash', ['scripts/setup.sh'], { cwd: ROOT, stdio: 'pipe' });
  // The engine answering on the default socket is the one docker-up.sh starts (its command line): on a
  // machine whose Docker something else started, this test has nothing to check and says so.
  const pid = Number(readFileSync('/var/run/docker.pid', 'utf8'));
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  expect(cmdline).toEqual(['dockerd', '--bridge=none', '--iptables=false', '--ip6tables=false']);
  const dockerd = holders(LOCK).filter((h) => /dockerd|containerd/.test(h.comm));
  expect(dockerd).toEqual([]);
  expect(holders(LOCK).map((h) => h.pid)).not.toContain(pid);
  // A second setup (the second README command) gets the lock at once.
  expect(spawnSync('flock', ['-n', LOCK, 'true']).status).toBe(0);
});

it('the build removes outputs no source produces any more (a stale session.js would shadow session/index.js)', () => {
  execFileSync('bash', ['scripts/build.sh'], { cwd: ROOT, stdio: 'pipe' });
  const stale = join(ROOT, 'dist', 'src', 'exec', 'session.js');
  writeFileSync(stale, 'exports.Session = undefined;\n');
  execFileSync('bash', ['scripts/build.sh'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(stale)).toBe(false);
  expect(existsSync(join(ROOT, 'dist', 'src', 'exec', 'session', 'index.js'))).toBe(true);
});

it('the build writes again an output deleted by hand, of the service and of the client (tsc, incremental, would not)', () => {
  // In a copy of what the build reads and writes, so the suite's own dist/ is never without a file.
  const copy = mkdtempSync(join(tmpdir(), 'build-'));
  try {
    for (const p of [
      'src',
      'bench',
      'test/support',
      'proto',
      'scripts',
      'dist',
      'packages/client',
      'tsconfig.json',
      'tsconfig.build.json',
      'package.json',
      'package-lock.json',
    ]) {
      cpSync(join(ROOT, p), join(copy, p), {
        recursive: true,
        verbatimSymlinks: true,
        filter: (f) => !f.startsWith(join(ROOT, 'packages/client/node_modules')),
      });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    symlinkSync(join(ROOT, 'packages/client/node_modules'), join(copy, 'packages/client/node_modules'));
    execFileSync('bash', ['scripts/build.sh'], { cwd: copy, stdio: 'pipe' }); // settles the copy: a build with nothing to do
    const outputs = ['dist/src/main.js', 'dist/src/exec/session/session-outcome.js', 'packages/client/dist/index.js'];
    const before = outputs.map((f) => readFileSync(join(copy, f), 'utf8'));
    for (const f of outputs) rmSync(join(copy, f));
    execFileSync('bash', ['scripts/build.sh'], { cwd: copy, stdio: 'pipe' });
    expect(outputs.map((f) => readFileSync(join(copy, f), 'utf8'))).toEqual(before);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

it('an older Node is refused at start, naming the version it needs', () => {
  execFileSync('bash', ['scripts/build.sh'], { cwd: ROOT, stdio: 'pipe' });
  const system = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
  if (system.status !== 0 || /^v(2[4-9]|[3-9]\d)\./.test(system.stdout)) {
    throw new Error(`this test needs the machine's older system Node at /usr/bin/node (got ${system.stdout || system.error})`);
  }
  const r = spawnSync('/usr/bin/node', ['dist/src/main.js'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/Node \d+\.\d+\.\d+ is too old; it needs Node >= 24\.9/);
});

it("npm run demo (README's `DEMO_KEEP_RUNNING=1 npm run demo -- 'exit 4'`): the service on Node 24 whatever npm's $NODE, the command's exit code, the service up until Ctrl-C", async () => {
  // README's `npm run demo`, `npm run demo -- 'echo hi; exit 4'`, `npm run demo -- 'exit 4'` and
  // `DEMO_KEEP_RUNNING=1 npm run demo`, in one run through npm itself (which sets $NODE to its own Node).
  const dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-demo-'));
  const listen = `127.0.0.1:${await freePort()}`;
  try {
    const env = { ...process.env, NODE_OPTIONS: '', EXEC_LISTEN: listen, EXEC_DATA_DIR: dataDir, npm_config_update_notifier: 'false' };
    // A process group of its own: Ctrl-C reaches npm, the demo script and the service, as from a terminal.
    const demo = spawn('bash', ['-c', `DEMO_KEEP_RUNNING=1 npm run demo -- 'echo out-of-the-box; exit 4'`], { cwd: ROOT, env, detached: true });
    let stdout = '';
    demo.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    demo.stderr.on('data', () => undefined);
    const ended = new Promise<number | null>((resolve) => demo.once('close', resolve));
    await waitUntil(`the demo to keep the service running (so far: ${stdout.slice(-300)})`, () => stdout.includes('[demo] service keeps running'), 170_000);
    expect(stdout).toContain('\nout-of-the-box\n'); // through the CLI, as the process wrote it
    expect(stdout).toContain('[demo] exit code 4');
    // Still serving after the demo's command: a second client reads the session again.
    const session = /\[demo\] session (\S+);/.exec(stdout)![1];
    const again = spawnSync(join(ROOT, 'node_modules', '.bin', 'node'), ['packages/client/dist/cli/main.js', '--addr', listen, 'logs', session], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    expect({ status: again.status, stdout: again.stdout }).toEqual({ status: 0, stdout: 'out-of-the-box\n' });
    // The service stops (SIGTERM, its drain, as Ctrl-C would): the demo then exits with the command's exit code.
    const service = execFileSync('ps', ['-o', 'pid=,args=', '-g', String(demo.pid)], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.includes('dist/src/main.js'))!;
    process.kill(Number(service.trim().split(' ')[0]), 'SIGTERM');
    expect(await ended).toBe(4);
    const log = readFileSync(join(dataDir, 'service.log'), 'utf8');
    const listening = log
      .split('\n')
      .filter((l) => l.includes('"exec-stream listening"'))
      .map((l) => JSON.parse(l) as { node: string });
    expect(listening).toHaveLength(1);
    expect(listening[0].node).toMatch(/^v24\./);
    expect(log).not.toContain('unrecognized flag');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it("scripts/serve.sh runs the service's Node on jemalloc with its settings, on glibc's malloc with EXEC_ALLOCATOR=system, and refuses any other value", () => {
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-allocator-'));
  try {
    // Preloaded before dist/src/main.js: says what the process runs on, then ends it.
    const probe = join(dir, 'probe.js');
    writeFileSync(
      probe,
      "const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');\n" +
        'process.stdout.write(JSON.stringify({ jemalloc: /\\/libjemalloc\\.so\\.2$/m.test(maps), conf: process.env.MALLOC_CONF ?? null }));\n' +
        'process.exit(0);\n',
    );
    const serve = (more: Record<string, string> = {}) => {
      const env: NodeJS.ProcessEnv = userEnv({ EXEC_NODE_ARGS: `--require ${probe}` });
      delete env.LD_PRELOAD;
      delete env.MALLOC_CONF;
      return spawnSync('bash', ['scripts/serve.sh'], { cwd: ROOT, env: { ...env, ...more }, encoding: 'utf8' });
    };
    const conf = /MALLOC_CONF:-([^}]+)\}/.exec(readFileSync(join(ROOT, 'scripts', 'serve.sh'), 'utf8'))?.[1];
    expect(conf).toMatch(/^\S+:\S+/);
    const byDefault = serve();
    expect(byDefault.stderr).toBe(''); // no "[serve] … not found", and jemalloc took every setting (it warns of bad ones)
    expect(JSON.parse(byDefault.stdout)).toEqual({ jemalloc: true, conf });
    // An operator's own MALLOC_CONF is kept (serve.sh's comment promises it).
    expect(JSON.parse(serve({ MALLOC_CONF: 'narenas:2' }).stdout)).toEqual({ jemalloc: true, conf: 'narenas:2' });
    expect(JSON.parse(serve({ EXEC_ALLOCATOR: 'system' }).stdout)).toEqual({ jemalloc: false, conf: null });
    // A jemalloc preloaded from outside (as the image's ENV does) is taken off.
    const lib = readFileSync(`/proc/${process.pid}/maps`, 'utf8')
      .match(/\S+\/libc\.so\.6$/m)![0]
      .replace('libc.so.6', 'libjemalloc.so.2');
    expect(existsSync(lib)).toBe(true);
    const inherited = serve({ EXEC_ALLOCATOR: 'system', LD_PRELOAD: lib });
    expect(JSON.parse(inherited.stdout)).toEqual({ jemalloc: false, conf: null });
    const bad = serve({ EXEC_ALLOCATOR: 'tcmalloc' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/EXEC_ALLOCATOR=tcmalloc: expected jemalloc or system/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('every script in package.json works as written', () => {
  const npm = (args: string[], extra: Record<string, string> = {}, cwd = ROOT) => runCommand('npm', ['run', '--silent', ...args], userEnv(extra), cwd);
  /** Where each script is run: here, or in the file named. */
  const WHERE: Record<string, string> = {
    build: 'here',
    'docker:up': 'here',
    start: 'here',
    demo: 'here (scripts/demo.sh, with the $NODE npm gives it)',
    test: 'excepted: it runs all of this',
    'test:unit': 'here',
    'test:e2e': 'here',
    'test:reliability': 'here',
    bench: 'test/bench-smoke.e2e-spec.ts',
    'bench:memory': 'test/bench-smoke.e2e-spec.ts',
    'bench:copy-files': 'test/bench-smoke.e2e-spec.ts',
    typecheck: 'here',
    'gen:types': 'here',
    lint: 'here',
    depcruise: 'here (npm run lint runs it, on the small copy of the config)',
    format: 'here',
  };

  it('each script has its place in the suite (a new script needs a test)', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    expect(scripts.sort()).toEqual(Object.keys(WHERE).sort());
  });

  it('npm run build and npm run docker:up', async () => {
    const [build, up] = await Promise.all([npm(['build']), npm(['docker:up'])]);
    expect(summary(build)).toMatchObject({ code: 0 });
    expect(existsSync(join(ROOT, 'dist', 'src', 'main.js'))).toBe(true);
    expect(existsSync(join(ROOT, 'node_modules', '.bin', 'exec-stream'))).toBe(true);
    expect(summary(up)).toMatchObject({ code: 0 });
    expect(up.stderr).toMatch(/\[docker-up\] ready: \S+ with exec-stream\/busybox:latest/);
  });

  it('npm start: the service listens (on jemalloc), answers, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-start-'));
    const address = `127.0.0.1:${await freePort()}`;
    // npm, its shell, scripts/serve.sh (which execs node): one process group, signalled as a terminal would.
    const started = startCommand('npm', ['start'], userEnv({ EXEC_LISTEN: address, EXEC_DATA_DIR: dataDir }), ROOT, true);
    try {
      await waitUntil('npm start listening', () => started.output().includes('"msg":"exec-stream listening"') || started.exited(), 120_000);
      expect(started.output()).toContain(`"listen":"${address}"`);
      // The allocator scripts/serve.sh gives it, from the library scripts/setup.sh installed.
      const pid = execFileSync('pgrep', ['-g', String(started.proc.pid), '-f', 'dist/src/main.js'], { encoding: 'utf8' }).trim();
      expect(readFileSync(`/proc/${pid}/maps`, 'utf8')).toMatch(/\/libjemalloc\.so\.2$/m);
      const { ExecClient, GRPCConnectionManager } = await import('@exec-stream/client');
      const connection = new GRPCConnectionManager({ address });
      try {
        expect(await new ExecClient(connection).run('exec-stream/busybox:latest', { command: ['sh', '-c', 'exit 5'] }).wait()).toBe(5);
      } finally {
        connection.close();
      }
      process.kill(-started.proc.pid!, 'SIGTERM');
      const end = await started.done;
      expect(end.stdout).toContain('draining');
      expect(started.exited()).toBe(true);
    } finally {
      if (!started.exited()) process.kill(-started.proc.pid!, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('npm run test:unit, test:e2e and test:reliability, each with one small spec', async () => {
    const runs = await Promise.all([
      npm(['test:unit', '--', 'src/node-version.spec.ts']),
      npm(['test:e2e', '--', 'test/documented/health-open.e2e-spec.ts']),
      npm(['test:reliability', '--', 'test/reliability/full-disk.rel-spec.ts']),
    ]);
    for (const r of runs) expect(summary(r)).toMatchObject({ code: 0 });
    // The one spec named, and only it (a path that jest took for a project name would run them all).
    expect(runs.map((r) => /^Test Suites: 1 passed, 1 total$/m.test(r.stderr))).toEqual([true, true, true]);
  });

  it('npm run typecheck, and npm run gen:types writing the wire types committed in packages/client/src/gen', async () => {
    const out = mkdtempSync(join(tmpdir(), 'exec-stream-gen-'));
    try {
      const [typecheck, gen] = await Promise.all([npm(['typecheck']), npm(['gen:types', '--', join(out, 'gen')])]);
      expect(summary(typecheck)).toMatchObject({ code: 0 });
      expect(summary(gen)).toMatchObject({ code: 0 });
      const files = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]));
      const committed = join(ROOT, 'packages', 'client', 'src', 'gen');
      expect(files(join(out, 'gen')).sort()).toEqual(files(committed).sort());
      for (const f of files(committed))
        expect({ f, same: readFileSync(join(out, 'gen', f), 'utf8') === readFileSync(join(committed, f), 'utf8') }).toEqual({ f, same: true });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('npm run lint fails on a badly laid out file, npm run format fixes it, then lint passes (a small copy of the config)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-stream-lint-'));
    try {
      const config = [
        'package.json',
        'eslint.config.mjs',
        '.prettierrc.json',
        '.prettierignore',
        'tsconfig.json',
        '.dependency-cruiser.cjs',
        '.dependency-cruiser-known-violations.json',
      ];
      for (const f of config) cpSync(join(ROOT, f), join(dir, f));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      mkdirSync(join(dir, 'src'));
      cpSync(join(ROOT, 'src', 'node-version.ts'), join(dir, 'src', 'node-version.ts'));
      // Layout for Prettier, and a double negation ESLint's fixer removes (no-extra-boolean-cast).
      writeFileSync(join(dir, 'src', 'sample.ts'), 'export function sample(  x:number ) { if (!!x) return   1; return 2 }\n');
      const before = await npm(['lint'], {}, dir);
      expect(before.code).not.toBe(0);
      expect(before.stdout + before.stderr).toMatch(/no-extra-boolean-cast/);
      expect(summary(await npm(['format'], {}, dir))).toMatchObject({ code: 0 });
      expect(readFileSync(join(dir, 'src', 'sample.ts'), 'utf8')).toBe('export function sample(x: number) {\n  if (x) return 1;\n  return 2;\n}\n');
      expect(summary(await npm(['lint'], {}, dir))).toMatchObject({ code: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
