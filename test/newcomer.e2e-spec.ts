/**
 * The newcomer path (README's two commands and the scripts behind them), run for real: the setup lock
 * is not held by the Docker engine it started, the service runs on the project's Node 24 even when npm
 * hands scripts its own Node in $NODE, an older Node is refused with a message, and `npm run demo`
 * exits with the command's exit code (and with DEMO_KEEP_RUNNING=1 leaves the service up until Ctrl-C).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/server';
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
  const dockerd = holders(LOCK).filter((h) => /dockerd|containerd/.test(h.comm));
  expect(dockerd).toEqual([]);
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
