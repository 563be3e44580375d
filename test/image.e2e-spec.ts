import type { ServiceError } from '@grpc/grpc-js';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ControlClient, ExecClient, GRPCConnectionManager, ResumingSession } from '@exec-stream/client';
import { backgroundReader, inspectContainer, waitUntil } from './support/conditions';
import { freePort } from './support/free-port';
import { docker, sha256 } from './support/helpers';
import { BASE_IMAGE } from './support/server';
import { docCommands } from './support/doc-snippets';

/**
 * The container image (Dockerfile), built by scripts/image-build.sh (cached per tree hash), run on the
 * host engine with its socket mounted and a named data volume, and driven from outside with our client:
 * a run, a second client, status, `docker stop` (drain), and a new container on the same volume that
 * re-adopts the run's container and resumes the client byte-exactly.
 */
jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');
const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
const NAME = `exec-stream-image-e2e-${tag}`;
const VOLUME = `exec-stream-image-e2e-${tag}`;
const REPLICA = `image-e2e-${tag}`;
const TOKEN = randomBytes(24).toString('hex');
const LINES = 800;
/** Numbered lines for ~10 s (long enough to outlive the drain and the restart), then exit 7. */
const NUMBERED = ['sh', '-c', `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); usleep 12000; done; echo done >&2; exit 7`];
const EXPECTED = Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`).join('');

let image: string;
let port: number;
/** Another checkout's image on the shared engine: a build must leave it alone. */
const OTHER_TREE = `exec-stream:tree-other-${tag}`;
const started: string[] = [];

/**
 * README "Build the image" runs here through its stand-in, without a registry: `bash scripts/image-build.sh`
 * builds the same Dockerfile (for `docker build -t registry.example.com/exec-stream:0.1.0 .`, and
 * nothing to `docker push registry.example.com/exec-stream:0.1.0` to), and runImage() starts it with the
 * flags of the README's `docker run -d -e EXEC_AUTH_TOKEN=$(openssl rand -hex 32) -e EXEC_REPLICA_ID=exec-stream-1 -v /var/run/docker.sock:/var/run/docker.sock --group-add "$(stat -c %g /var/run/docker.sock)" -v exec-stream-data:/var/lib/exec-stream -p 127.0.0.1:50051:50051 registry.example.com/exec-stream:0.1.0`
 * (checked below against the README); healthy() runs the image's `node scripts/healthcheck.js`.
 *
 * Starts the image as container `name` (detached) on the data volume, reachable on 127.0.0.1 only. The
 * engine here runs with --bridge=none (no container networks, so no `-p`): the container shares the
 * host's network and the service listens on loopback, where elsewhere `-p 127.0.0.1:PORT:50051` would do.
 */
function runImage(name: string): string {
  const socketGid = statSync('/var/run/docker.sock').gid;
  const id = docker(
    ...['run', '-d', '--name', name, '--network', 'host', '-e', `EXEC_LISTEN=127.0.0.1:${port}`, '--group-add', String(socketGid)],
    ...['-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${VOLUME}:/var/lib/exec-stream`],
    ...['-e', `EXEC_AUTH_TOKEN=${TOKEN}`, '-e', `EXEC_REPLICA_ID=${REPLICA}`, image],
  );
  started.push(id);
  return id;
}

/** Waits until the image's own HEALTHCHECK command says SERVING inside container `id`. */
async function healthy(id: string): Promise<void> {
  await waitUntil(
    `health check of ${id.slice(0, 12)} (logs: ${logs(id).slice(-400)})`,
    () => {
      try {
        return execFileSync('docker', ['exec', id, 'node', 'scripts/healthcheck.js'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch {
        return undefined;
      }
    },
    30_000,
  );
}

function logs(id: string): string {
  try {
    return execFileSync('docker', ['logs', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
}

function logLines(id: string): Array<Record<string, unknown>> {
  return logs(id)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** A shell command run in the image itself (entrypoint sh), with the data volume mounted at /data. */
function inImage(script: string): string {
  return docker('run', '--rm', '-v', `${VOLUME}:/data`, '--entrypoint', 'sh', image, '-c', script);
}

beforeAll(async () => {
  docker('tag', BASE_IMAGE, OTHER_TREE);
  image = execFileSync('bash', [join(ROOT, 'scripts/image-build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  port = await freePort();
}, 600_000);

afterAll(() => {
  execFileSync('docker', ['rmi', OTHER_TREE], { stdio: 'ignore' });
  for (const id of [...started, ...docker('ps', '-aq', '--filter', `label=exec-stream.replica=${REPLICA}`).split('\n')].filter(Boolean)) {
    execFileSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore' });
  }
  execFileSync('docker', ['volume', 'rm', '-f', VOLUME], { stdio: 'ignore' });
});

it("leaves other checkouts' exec-stream:tree-* images on the engine (when it builds, it removes only what it made)", () => {
  expect(docker('image', 'inspect', '--format', '{{.Id}}', OTHER_TREE)).toBe(docker('image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE));
});

it("runs with the README's `docker run` flags: the token, the replica id, the socket and its group, the data volume at the image's VOLUME", () => {
  const readme = docCommands(['README.md']).find((c) => c.command.startsWith('docker run -d'))!.command;
  const flags = (cmd: string) => [...cmd.matchAll(/(-e|-v|--group-add) ("[^"]*"|\S+)/g)].map((m) => `${m[1]} ${m[2].split(/[=:]/)[0]}`);
  expect(flags(readme)).toEqual([
    '-e EXEC_AUTH_TOKEN',
    '-e EXEC_REPLICA_ID',
    '-v /var/run/docker.sock',
    '--group-add "$(stat -c %g /var/run/docker.sock)"',
    '-v exec-stream-data',
  ]);
  expect(readme).toContain('exec-stream-data:/var/lib/exec-stream');
  // runImage()'s arguments carry the same ones (a named volume at the same path; -p is the one stand-in).
  const source = readFileSync(__filename, 'utf8');
  for (const needle of ['EXEC_AUTH_TOKEN=', 'EXEC_REPLICA_ID=', "'/var/run/docker.sock:/var/run/docker.sock'", "'--group-add'", ':/var/lib/exec-stream'])
    expect(source).toContain(needle);
});

it('holds production node_modules, dist/, proto/ and the built client package only: no sources, no dev dependencies', () => {
  const listing = inImage(
    'cd /app && ls -A; echo ---; cd node_modules && ls -d * @*/*; echo ---; id -u; echo ---; ls -A /app/packages/client; readlink /app/node_modules/@exec-stream/client; echo ---; ls /app/dist/src/main.js; find /app -name "*.ts" ! -name "*.d.ts" ! -path "*/node_modules/*" | wc -l',
  ).split('---\n');
  expect(listing[0].split('\n').filter(Boolean).sort()).toEqual(['dist', 'node_modules', 'package.json', 'packages', 'proto', 'scripts']);
  // The workspace link the service loads @exec-stream/client/wire through, to the package's build only.
  expect(listing[3].split('\n').filter(Boolean)).toEqual(['dist', 'package.json', 'proto', '../../packages/client']);
  const modules = new Set(listing[1].split('\n').filter(Boolean));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  // Dev dependencies that no production package needs (npm's own view) must be absent.
  const prod = new Set(
    execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((p) => p.match(/node_modules\/((?:@[^/]+\/)?[^/]+)$/)?.[1])
      .filter(Boolean),
  );
  const devOnly = Object.keys(pkg.devDependencies).filter((d) => !prod.has(d));
  expect(devOnly).toEqual(expect.arrayContaining(['typescript', 'jest', 'eslint', 'node']));
  expect(devOnly.filter((d) => modules.has(d))).toEqual([]);
  expect(Object.keys(pkg.dependencies).filter((d) => !modules.has(d))).toEqual([]);
  expect(listing[4].trim()).toBe('/app/dist/src/main.js\n0');
  expect(listing[2].trim()).toBe('1000');
  const config = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config}}', image));
  expect(config.Cmd).toEqual(['node', '--max-semi-space-size=4', 'dist/src/main.js']);
  expect(Object.keys(config.Volumes)).toEqual(['/var/lib/exec-stream']);
  expect(config.Healthcheck.Test).toEqual(['CMD', 'node', 'scripts/healthcheck.js']);
});

it("runs its Node on jemalloc with scripts/serve.sh's settings (the service's allocator), on glibc's malloc with -e LD_PRELOAD=", () => {
  const conf = /MALLOC_CONF:-([^}]+)\}/.exec(readFileSync(join(ROOT, 'scripts', 'serve.sh'), 'utf8'))?.[1];
  const env = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config.Env}}', image)) as string[];
  expect(env).toEqual(expect.arrayContaining(['LD_PRELOAD=/usr/local/lib/libjemalloc.so.2', `MALLOC_CONF=${conf}`]));
  // The library is there and loads: a Node in the image maps it, and jemalloc took every setting (it warns of bad ones).
  const printMaps = 'process.stdout.write(require("fs").readFileSync("/proc/self/maps", "utf8"))';
  const maps = (...flags: string[]) =>
    spawnSync('docker', ['run', '--rm', ...flags, '--entrypoint', 'node', image, '-e', printMaps], { encoding: 'utf8', timeout: 60_000 });
  const r = maps();
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/\/libjemalloc\.so\.2$/m);
  // README's way back to glibc's malloc.
  const glibc = maps('-e', 'LD_PRELOAD=');
  expect(glibc.stdout).toMatch(/\/libc\.so\.6$/m);
  expect(glibc.stdout).not.toMatch(/libjemalloc/);
});

it('refuses to start listening on 0.0.0.0 without a token, naming EXEC_AUTH_TOKEN', async () => {
  const run = promisify(execFile)('docker', ['run', '--rm', image]);
  const err = await run.then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  expect(err?.code).toBe(2);
  expect(err?.stderr).toMatch(/EXEC_LISTEN=0\.0\.0\.0:50051: .*set EXEC_AUTH_TOKEN/);
});

it('runs, serves a second client and status, drains on docker stop, and a new container on the volume resumes the run byte-exactly', async () => {
  const first = runImage(`${NAME}-a`);
  await healthy(first);
  const connection = new GRPCConnectionManager({ address: `127.0.0.1:${port}`, token: TOKEN });
  const other = new GRPCConnectionManager({ address: `127.0.0.1:${port}`, token: TOKEN });
  try {
    const errors: string[] = [];
    const run = ResumingSession.run(new ExecClient(connection), BASE_IMAGE, {
      command: NUMBERED,
      onReconnect: ({ error }) => errors.push(`${(error as ServiceError).code}: ${error.message}`),
    });
    const { sessionId, containerId } = await run.ready;
    const reader = backgroundReader(run.output());
    await reader.until('line 50\n');

    // A second client attaches to the same run; status answers from the service's view of Docker.
    const second = new ExecClient(other).attach({ sessionId });
    const secondReader = backgroundReader(second.output());
    await secondReader.until('line 60\n');
    const st = await new ControlClient(connection).status(containerId);
    expect(st).toMatchObject({ containerId, status: 'running' });

    // docker stop: SIGTERM to node as PID 1 → drain, then the process ends itself (exit 0, main.ts:
    // a re-raised signal does nothing to PID 1), not by docker's SIGKILL after the grace period (137).
    docker('stop', '-t', '30', first);
    expect(inspectContainer(first).State.ExitCode).toBe(0);
    const drained = logLines(first);
    expect(drained.some((l) => String(l.msg).startsWith('draining') && l.sealed === true)).toBe(true);
    const secondError = await secondReader.done.then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(secondError?.code).toBe(14);
    expect(secondError?.details).toMatch(/exec-stream is shutting down; running processes go on/);
    expect(EXPECTED.startsWith(secondReader.text())).toBe(true);
    expect(inspectContainer(containerId).State.Running).toBe(true); // the run goes on without the service
    // Files sealed on the volume, no exit record: the process had not ended.
    const sealed = inImage(`ls /data/sessions/${sessionId}`).split('\n');
    expect(sealed).not.toContain('exit.json');
    expect(sealed).toContain('stdout');

    // A new container of the image, same volume and replica id, re-adopts the run.
    const again = runImage(`${NAME}-b`);
    await healthy(again);
    await reader.done;
    const stdout = Buffer.concat(reader.pieces.filter((p) => p.stream === 'stdout').map((p) => p.data));
    const stderr = Buffer.concat(reader.pieces.filter((p) => p.stream === 'stderr').map((p) => p.data));
    expect(sha256(stdout)).toBe(sha256(EXPECTED));
    expect(stderr.toString()).toBe('done\n');
    expect(await run.exit).toBe(7);
    expect(errors[0]).toMatch(/^14: .*exec-stream is shutting down/);
    expect(logLines(again).filter((l) => l.msg === 'session re-adopted')).toHaveLength(1);
    const after = await new ExecClient(other).attach({ sessionId }).collect();
    expect(sha256(after.stdout)).toBe(sha256(EXPECTED));
    expect(after.exitCode).toBe(7);
  } finally {
    connection.close();
    other.close();
  }
});
