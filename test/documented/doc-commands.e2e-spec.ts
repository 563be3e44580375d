/**
 * Every shell command of the docs a user would copy (`sh` and `console` blocks, and commands written
 * inline in the prose; test/support/doc-snippets.ts finds them) is run: here, with the cheapest
 * arguments that still prove it works, against the real service, or by the test file named for it
 * (which holds the command's text). A command that needs what no machine here has (a registry, a
 * cluster) runs through the stand-in the doc names. The first test fails for a command that is new or
 * changed in the docs until it is given a way to run (docs/TOOLCHAIN.md, "The docs' snippets and
 * commands are tests").
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildService } from '../support/child-service';
import { cliEnv, ensureTmux, TmuxPane } from '../support/cli';
import { waitUntil } from '../support/conditions';
import { docCommands, docFiles, snippets, type DocCommand } from '../support/doc-snippets';
import { dockerAsync } from '../support/helpers';
import { freePort, startTestServer, type TestServer } from '../support/server';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');

/** How a command of the docs is run: here (a name of a case below), or by another test file that holds its text. */
type How = { here: string } | { by: string; why: string };

const SELF = 'the test suite itself (`npm test` runs every project; CI runs `npm test`)';
const AUDIT = 'test/audit/audit-trail.e2e-spec.ts';

/** Every command of the docs, by its text, and how it is run. */
const HOW: Record<string, How> = {
  // README: the two commands, and the other commands of the npm scripts
  'npm run demo': { by: 'test/newcomer.e2e-spec.ts', why: 'with a script of its own and DEMO_KEEP_RUNNING=1' },
  "npm run demo -- 'echo hi; exit 4'": { by: 'test/newcomer.e2e-spec.ts', why: 'the same command with its own script, exit code 4' },
  "npm run demo -- 'exit 4'": { by: 'test/newcomer.e2e-spec.ts', why: 'the same command with its own script, exit code 4' },
  'DEMO_KEEP_RUNNING=1 npm run demo': { by: 'test/newcomer.e2e-spec.ts', why: 'the service still answers after the demo; Ctrl-C ends it' },
  'npm test': { by: 'package.json', why: SELF },
  'npm run lint': { by: 'scripts/test.sh', why: '`npm test` runs it first' },
  'npm run depcruise': { by: 'scripts/test.sh', why: "`npm test` runs its command line beside lint's, and `npm run lint` runs it" },
  'npm run format': { by: 'package.json', why: "lint's fixer: it rewrites the tree, so no test runs it; `npm run lint` checks what it would change" },
  'npm run typecheck': { by: 'package.json', why: 'run before every commit (the preamble); ts-jest type-checks each file it loads' },
  'npm start': { here: 'npm start' },
  'npm run docker:up': { here: 'npm run docker:up' },
  'npm run gen:types': { by: 'packages/client/src/gen-types.spec.ts', why: 'runs scripts/gen-types.sh and compares its output with the committed files' },
  'bash scripts/proto-descriptors.sh': { by: 'test/reflection.e2e-spec.ts', why: 'runs it and compares its output with the committed descriptor set' },
  // README: the terminal session (a console block: commands and the output they print)
  'npm run build': { here: 'console' },
  'export EXEC_ADDR=127.0.0.1:50051': { here: 'console' },
  [`npx exec-stream run exec-stream/busybox:latest sh -c 'echo hello; echo oops >&2; exit 3'; echo "exit $?"`]: { here: 'console' },
  'npx exec-stream run -it exec-stream/busybox:latest sh': { here: 'terminal' },
  'npx exec-stream attach 5f0c…': { here: 'terminal' },
  [`id=$(npx exec-stream run -d -l job=nightly --memory 256m --timeout 10m exec-stream/busybox:latest sh -c 'sleep 30; echo done')`]: { here: 'console' },
  'npx exec-stream ps --filter label=job=nightly': { here: 'console' },
  'npx exec-stream logs "$id"': { here: 'console' },
  'npx exec-stream cp ./src <container>:/tmp': { here: 'console' },
  'npx exec-stream status --usage <container>; npx exec-stream pause <container>; npx exec-stream resume <container>': { here: 'console' },
  'npx exec-stream kill -s SIGTERM <container>': { here: 'console' },
  'npx exec-stream events --since-id 0 --json': { here: 'console' },
  'npx exec-stream stop -t 5 "$id"; npx exec-stream wait "$id"; npx exec-stream rm "$id"': { here: 'console' },
  // OPERATIONS.md: the CLI commands its tables point to
  'exec-stream ls': { here: 'operations' },
  'exec-stream attach --from 1 <session>': { here: 'operations' },
  'exec-stream status --usage <container>': { here: 'operations' },
  'exec-stream kill <container>': { here: 'operations' },
  // README "Apply" and the upgrade note (no cluster here)
  'kubectl label namespace <ns> pod-security.kubernetes.io/enforce=privileged': {
    by: 'test/deploy.e2e-spec.ts',
    why: 'no cluster here: the overlays it is written for have a privileged container (dind), the others none',
  },
  'kubectl label namespace <ns> pod-security.kubernetes.io/enforce=restricted': {
    by: 'test/deploy.e2e-spec.ts',
    why: "no cluster here: the remote-docker overlay's pod passes the restricted level's checks",
  },
  'kubectl delete statefulset exec-stream': { by: 'test/deploy.e2e-spec.ts', why: 'no cluster here: the StatefulSet the manifests make has that name' },
  // PROTOCOL.md and RELIABILITY.md: a timeout longer than one Node timer
  'exec-stream run --timeout 600h': { by: 'test/cli/cli.e2e-spec.ts', why: 'runs it (with --idle-timeout 600h) and sees the process end of itself' },
  // README: the image and Kubernetes (no registry, no cluster here: the stand-ins the README names)
  'docker build -t registry.example.com/exec-stream:0.1.0 .': {
    by: 'test/image.e2e-spec.ts',
    why: 'stand-in scripts/image-build.sh: the same Dockerfile, built without a registry (README "Build the image")',
  },
  'docker push registry.example.com/exec-stream:0.1.0': { by: 'test/image.e2e-spec.ts', why: 'no registry here: the image is run where it was built' },
  'bash scripts/image-build.sh': { by: 'test/image.e2e-spec.ts', why: 'builds the image it then runs' },
  'docker run -d -e EXEC_AUTH_TOKEN=$(openssl rand -hex 32) -e EXEC_REPLICA_ID=exec-stream-1 -v /var/run/docker.sock:/var/run/docker.sock --group-add "$(stat -c %g /var/run/docker.sock)" -v exec-stream-data:/var/lib/exec-stream -p 127.0.0.1:50051:50051 registry.example.com/exec-stream:0.1.0':
    {
      by: 'test/image.e2e-spec.ts',
      why: 'the same flags on the image built here; this engine has no bridge network, so host networking and EXEC_LISTEN on loopback stand for -p',
    },
  'node scripts/healthcheck.js': { by: 'test/image.e2e-spec.ts', why: "the image's HEALTHCHECK, run in the container until it says SERVING" },
  'kubectl apply -k deploy/overlays/dind': { by: 'test/deploy.e2e-spec.ts', why: 'no cluster here: `kubectl kustomize` of the same overlay, validated' },
  'kubectl apply -k deploy/overlays/remote-docker': {
    by: 'test/deploy.e2e-spec.ts',
    why: 'no cluster here: `kubectl kustomize` of the same overlay, validated',
  },
  'kubectl apply -k deploy/overlays/metrics': { by: 'test/deploy.e2e-spec.ts', why: 'no cluster here: `kubectl kustomize` of the same overlay, validated' },
  'kubectl kustomize': { by: 'test/deploy.e2e-spec.ts', why: 'renders every overlay' },
  'kubectl apply -k': { by: 'test/deploy.e2e-spec.ts', why: 'no cluster here: `kubectl kustomize` of the same overlay, validated' },
  'kubectl kustomize deploy/overlays/dind': { by: 'test/deploy.e2e-spec.ts', why: 'renders every overlay' },
  'kubectl create secret generic exec-stream-docker-tls --from-file=ca.pem --from-file=cert.pem --from-file=key.pem': {
    by: 'test/deploy.e2e-spec.ts',
    why: 'no cluster here: with --dry-run=client -o yaml, the Secret it would create is the one the overlay mounts',
  },
  // The client package and the CLI
  'npm install @exec-stream/client': {
    by: 'test/client-package.e2e-spec.ts',
    why: 'no registry here: the packed tarball, installed offline into a fresh project',
  },
  'npm install ./exec-stream-client-0.1.0.tgz': { by: 'test/client-package.e2e-spec.ts', why: 'the tarball npm pack makes, by that name' },
  'npm install -g exec-stream-client-*.tgz': { by: 'test/client-package.e2e-spec.ts', why: 'into a prefix of its own' },
  'NODE_OPTIONS=--experimental-vm-modules npx jest': { by: 'test/client-package.e2e-spec.ts', why: 'in a fresh project, with and without the flag' },
  [`exec-stream run exec-stream/busybox:latest sh -c 'echo hi; exit 3'; echo $?`]: { here: 'CLI.md' },
  'exec-stream run -it exec-stream/busybox:latest sh': { here: 'terminal' },
  'exec-stream attach <session-id>': { here: 'terminal' },
  'exec-stream attach <session>': { here: 'terminal' },
  'node packages/client/dist/cli/main.js …': { here: 'CLI.md' },
  'npx exec-stream …': { here: 'CLI.md' },
  'exec-stream --addr h:p ls': { here: 'CLI.md' },
  // AUDIT.md: the trail's commands, run as written against two replicas with scoped tokens
  'npx exec-stream audit verify "${TMPDIR:-/tmp}/exec-stream/audit"': { by: AUDIT, why: "TMPDIR such that $TMPDIR/exec-stream is a replica's data dir" },
  'npx exec-stream audit --since 1h --caller ci': { by: AUDIT, why: 'one line per event of token ci, a run it just made among them' },
  'npx exec-stream audit --follow --json': { by: AUDIT, why: 'JSON lines until SIGINT, sent after the first event' },
  'exec-stream audit': { by: AUDIT, why: 'the commands above' },
  'exec-stream audit verify': { by: AUDIT, why: 'a folder, a segment, a file of shipped lines' },
  'exec-stream audit verify PATH': { by: AUDIT, why: 'PATH: a segment' },
  'exec-stream audit verify FILE': { by: AUDIT, why: "FILE: the replica's standard output, its own log lines among the audit lines" },
  'exec-stream logs --timestamps': { by: AUDIT, why: 'the command below' },
  'exec-stream logs --timestamps SESSION': { by: AUDIT, why: "SESSION: a TTY session's id; every line prefixed with its time" },
  'exec-stream logs --format asciicast': { by: AUDIT, why: 'the command below' },
  'exec-stream logs --format asciicast SESSION > s.cast': { by: AUDIT, why: 'an asciicast v2 header line, then the output events' },
  // PROTOCOL: reflection
  'buf curl --protocol grpc --http2-prior-knowledge --list-methods http://127.0.0.1:50051': { by: 'test/reflection.e2e-spec.ts', why: 'against its server' },
  [`buf curl --protocol grpc --http2-prior-knowledge -d '{"container_id":"abc"}' http://127.0.0.1:50051/dagger.exec.Exec/ContainerStatus`]: {
    by: 'test/reflection.e2e-spec.ts',
    why: 'against its server',
  },
  // The suite's own commands (RELIABILITY, TOOLCHAIN, DURABILITY, LIFECYCLE): the names they give must exist
  'npm run test:reliability': { here: 'suite' },
  'bash scripts/test.sh test/cluster/replicas.e2e-spec.ts -t "rolling restart"': { here: 'suite' },
  "npm run test:reliability -- -t 'fuzzed unary'": { here: 'suite' },
  'bash scripts/test.sh test/reliability/full-disk.rel-spec.ts': { here: 'suite' },
  'bash scripts/test.sh test/recovery -t "kill -9 mid-stream"': { here: 'suite' },
  'bash scripts/test.sh test/reliability/metrics-flood.rel-spec.ts': { here: 'suite' },
  'bash scripts/test.sh <paths> [-t …]': { here: 'suite' },
  // BENCHMARKS
  'npm run bench': { here: 'bench flags' },
  'npm run bench -- --mode=full': { here: 'bench flags' },
  'npm run bench -- --scenarios=1,4 --s1-bytes=512M --reps=5': { here: 'bench flags' },
  'BENCH_MODE=full BENCH_S4_BYTES=2G npm run bench': { here: 'bench flags' },
  'npm run bench -- --scenarios=1 --s1-bytes=256M --cpu-prof-dir=/tmp/prof': { here: 'bench flags' },
  'npm run bench -- --scenarios=1,2,8 --s1-bytes=256M --s2-bytes=64M --s2-clients=1,16 --reps=3': { here: 'bench flags' },
  'npm run bench -- --scenarios=9 --s1-bytes=256M --s2-clients=16 --reps=3 --compare-root=/path/to/other': { here: 'bench flags' },
  'npm run bench -- --scenarios=9 --s1-bytes=256M --s2-clients=1,16 --reps=3 --compare-root=<it>': { here: 'bench flags' },
  'npm run bench -- --scenarios=9 --s1-bytes=256M --s2-clients=1,16 --reps=5 --compare-root=/path/to/cd2c494': { here: 'bench flags' },
  'npm run bench -- --mode=full --scenarios=10': { here: 'bench flags' },
  'npm run bench -- --scenarios=10': { here: 'bench flags' },
  'npm run bench -- --mode=quick --scenarios=8': { here: 'bench flags' },
  'npm run bench -- --write-docs': { here: 'bench flags' },
  'npm run bench -- --scenarios=1 --cpu-prof-dir=/tmp/prof': { here: 'bench flags' },
  'npm run bench -- --scenarios=1 --s1-bytes=256M --reps=1 --cpu-prof-dir=/tmp/prof': { here: 'bench flags' },
  'npm run bench -- --scenarios=1,2,4 --s1-bytes=32M --s2-bytes=8M --s2-clients=1,16 --s4-bytes=64M --s4-stall-ms=2000 --reps=2': { here: 'bench flags' },
  'npm run bench -- --scenarios=11 --s11-bytes=2M --reps=1 --s11-local=true': { here: 'bench flags' },
  'npm run bench -- --scenarios=7': { here: 'bench flags' },
  'npm run bench -- --scenarios=12': { here: 'bench flags' },
  'npm run bench -- --scenarios=12 --soak-sessions=2000 --soak-after-seconds=60': { here: 'bench flags' },
  'npm run bench -- --scenarios=12 --soak-seconds=60 --soak-after-seconds=30': { here: 'bench flags' },
  'npm run bench -- --mode=quick --scenarios=1,2,4,6,11 --s1-bytes=256M --s2-bytes=64M --s2-clients=1,16 --s4-bytes=256M --reps=3': { here: 'bench flags' },
  'npm run bench -- --scenarios=12 --soak-sessions=20 --soak-seconds=120 --soak-after-seconds=30': { here: 'bench flags' },
  'npm run bench -- --scenarios=12 --soak-sessions=100 --soak-seconds=40': { here: 'bench flags' },
  'npm run bench -- --scenarios=12 --soak-sessions=100 --soak-seconds=40 --server-node-args=--expose-gc': { here: 'bench flags' },
  'npm run bench -- --scenarios=12 --soak-sessions=20 --soak-seconds=120 --server-node-args=--expose-gc': { here: 'bench flags' },
  'npm run bench -- --scenarios=12 --soak-sessions=20 --soak-seconds=120 --server-node-args=--expose-gc --server-env=EXEC_ALLOCATOR=system': {
    here: 'bench flags',
  },
  'npm run bench -- --scenarios=9 --s1-bytes=256M --s2-clients=1,16 --reps=5 --compare-root=/path/to/main': { here: 'bench flags' },
  'npm run bench -- --scenarios=4 --s4-bytes=512M --s4-stall-ms=3000 --reps=2': { here: 'bench flags' },
  'npm run bench -- --scenarios=4 --s4-bytes=512M --s4-stall-ms=3000 --reps=2 --server-env=EXEC_ALLOCATOR=system': { here: 'bench flags' },
  'node dist/bench/main.js': { here: 'bench flags' },
  'node dist/bench/cpuprofile-summary.js /tmp/prof 40': { here: 'bench tools' },
  'node dist/bench/cpuprofile-summary.js /tmp/prof 30': { here: 'bench tools' },
  'node dist/bench/hot-path.js 256 5': { here: 'bench tools' },
  'node dist/bench/hot-path.js [MiB] [reps]': { here: 'bench tools' },
  'npm run bench:copy-files': { here: 'bench tools' },
  'npm run bench:copy-files -- --bytes=1M': { here: 'bench tools' },
  'npm run bench:copy-files -- --bytes=256M --chunk=64K --node-args="--max-semi-space-size=1"': { here: 'bench tools' },
  'node dist/bench/copy-files.js': { here: 'bench tools' },
  'npm run bench:memory': { here: 'bench tools' },
  'npm run bench:memory -- --limit=1g --scenarios=fanout,stalled,sessions --stalled-bytes=512M --node-args="--max-semi-space-size=1 --max-old-space-size=96" --env=EXEC_TAIL_BUDGET_BYTES=16777216 --image=TAG':
    { here: 'bench tools' },
  // The allocator's A/B (BENCHMARKS.md): flags the memory run below takes (--limit, --scenarios, --env).
  'npm run bench:memory -- --limit=1g --scenarios=sessions,stalled': { here: 'bench tools' },
  'npm run bench:memory -- --limit=1g --scenarios=sessions,stalled --env=LD_PRELOAD=': { here: 'bench tools' },
  'bash scripts/build.sh && node_modules/.bin/node dist/bench/list-sessions.js': { here: 'bench tools' },
  'bash scripts/build.sh && node_modules/.bin/node dist/bench/module-footprint.js': { here: 'bench tools' },
  'bash scripts/build.sh': { by: 'package.json', why: "`npm run build` (the README terminal session runs it; so does every e2e run's global setup)" },
  [`node_modules/.bin/node -e "const {startServer}=require('./dist/bench/server-process.js');(async()=>{const s=await startServer({memoryProbe:true});await new Promise(r=>setTimeout(r,3000));console.log((await s.memory()).now);await s.stop()})()"`]:
    { here: 'bench tools' },
};

const commands = docCommands();
const byText = new Map<string, DocCommand[]>();
for (const c of commands) byText.set(c.command, [...(byText.get(c.command) ?? []), c]);
/** The commands of the docs that a case here runs, by the case's name: each case takes its own and marks them run. */
const ran = new Set<string>();
const take = (here: string): DocCommand[] =>
  commands.filter((c) => {
    const how = HOW[c.command];
    if (!how || !('here' in how) || how.here !== here) return false;
    ran.add(c.command);
    return true;
  });
const one = (text: string): string => {
  if (!byText.has(text)) throw new Error(`the docs no longer hold the command ${JSON.stringify(text)}`);
  ran.add(text);
  return text;
};

describe('the commands of the docs', () => {
  it('every command is run: here, or by the test file named for it (which holds its text)', () => {
    const where = (c: DocCommand) => `${c.doc}:${c.line}`;
    const unknown = commands.filter((c) => !HOW[c.command]).map((c) => `${where(c)}: ${c.command}`);
    expect(unknown).toEqual([]);
    const stale = Object.keys(HOW).filter((t) => !byText.has(t));
    expect(stale).toEqual([]);
    for (const [text, how] of Object.entries(HOW)) {
      if (!('by' in how)) continue;
      const file = join(ROOT, how.by);
      expect({ text, file: how.by, exists: existsSync(file) }).toEqual({ text, file: how.by, exists: true });
      // package.json and scripts/test.sh hold the script; a test file holds the command's text (or takes it from the doc).
      if (how.by.endsWith('.ts')) expect({ text, file: how.by, holds: readFileSync(file, 'utf8').includes(text) }).toEqual({ text, file: how.by, holds: true });
    }
    // A command in an unlabelled fence would escape all of this: fences holding commands say `sh` or `console`.
    const unlabelled = snippets(docFiles())
      .filter((s) => s.lang === '' && /^(npm|npx|node|bash|docker|kubectl|exec-stream|buf) /m.test(s.code))
      .map((s) => `${s.doc}:${s.line}`);
    expect(unlabelled).toEqual([]);
  });

  it('the npm scripts the docs name exist, and the suite commands name files and tests that exist', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const named = new Set(commands.flatMap((c) => [...c.command.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1])));
    for (const s of ['start', 'test', ...named]) expect({ script: s, exists: s in scripts }).toEqual({ script: s, exists: true });
    expect(scripts.test).toBe('bash scripts/test.sh');
    expect(scripts.lint).toMatch(/eslint .*prettier --check/);
    expect(readFileSync(join(ROOT, 'scripts', 'test.sh'), 'utf8')).toContain('eslint .');
    const testSources = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(e2e|rel)-spec\.ts$/.test(f))
        .map((f) => join(dir, f));
    for (const c of take('suite')) {
      const files = [...c.command.matchAll(/(test\/[\w/.-]+)/g)].map((m) => m[1]);
      for (const f of files) {
        const matching = existsSync(join(ROOT, f)) ? [f] : testSources('test').filter((t) => t.startsWith(f));
        expect({ command: c.command, path: f, found: matching.length > 0 }).toEqual({ command: c.command, path: f, found: true });
      }
      const name = /-t ['"]?([^'"…]+?)['"]?$/.exec(c.command)?.[1];
      if (name) {
        const inFiles = (files.length ? files : c.command.includes('reliability') ? ['test/reliability'] : ['test']).flatMap((f) =>
          existsSync(join(ROOT, f)) && f.endsWith('.ts') ? [f] : testSources('test').filter((t) => t.startsWith(f)),
        );
        const holds = inFiles.some((f) => readFileSync(join(ROOT, f), 'utf8').includes(name));
        expect({ command: c.command, testName: name, holds }).toEqual({ command: c.command, testName: name, holds: true });
      }
    }
  });

  it('every test file the docs name exists (a spec that moved must take its mentions along)', () => {
    const missing: string[] = [];
    for (const doc of docFiles()) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      for (const m of text.matchAll(/(?<![\w/.-])((?:test|src|packages|bench)\/[\w./-]+?\.(?:e2e-|rel-)?spec\.ts)/g)) {
        if (!existsSync(join(ROOT, m[1]))) missing.push(`${doc}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("the benchmarks' flags and variables are ones the harness takes", async () => {
    // Through the harness's own command line (bench/main.ts --dry-run: the configuration they make, nothing run).
    buildService();
    const outside = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BENCH_')));
    for (const c of take('bench flags')) {
      const env: NodeJS.ProcessEnv = { ...outside };
      for (const m of c.command.matchAll(/\b(BENCH_\w+)=(\S+)/g)) env[m[1]] = m[2];
      const args = (c.command.split(/ -- | dist\/bench\/main\.js/)[1] ?? '').split(/\s+/).filter((a) => a.startsWith('--'));
      const taken = await promisify(execFile)(join(BIN, 'node'), [join(ROOT, 'dist', 'bench', 'main.js'), '--dry-run', ...args], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      }).then(
        (r) => ({ ok: true, out: r.stdout }),
        (err: { stderr?: string; message: string }) => ({ ok: false, out: err.stderr || err.message }),
      );
      expect({ command: c.command, ...taken, out: taken.ok ? '' : taken.out }).toEqual({ command: c.command, ok: true, out: '' });
      const cfg = JSON.parse(taken.out) as { scenarios: number[]; mode: string; writeDocs: boolean };
      const scenarios = /--scenarios=([\d,]+)/.exec(c.command)?.[1];
      if (scenarios) expect(cfg.scenarios).toEqual(scenarios.split(',').map(Number));
      if (/--mode=full|BENCH_MODE=full/.test(c.command)) expect(cfg.mode).toBe('full');
      if (c.command.includes('--write-docs')) expect(cfg.writeDocs).toBe(true);
    }
  });
});

describe('the commands against the service', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  let tmp: string;
  beforeAll(async () => {
    // README's `npm run build`: it builds the service and the CLI and links node_modules/.bin/exec-stream.
    // The test server (this process, from the sources) starts meanwhile.
    const [build, started] = await Promise.allSettled([sh(one('npm run build'), cliEnv({ PATH: `${BIN}:${process.env.PATH}` })), startTestServer()]);
    if (started.status === 'rejected') throw started.reason;
    server = started.value;
    const built = build.status === 'fulfilled' ? build.value : { code: -1, out: String(build.reason) }; // sh itself does not reject
    if (built.code !== 0) throw new Error(`npm run build failed:\n${built.out}`);
    tmp = mkdtempSync(join(tmpdir(), 'exec-stream-doc-commands-'));
    // `export EXEC_ADDR=127.0.0.1:50051` with the test server's address: the one thing substituted.
    one('export EXEC_ADDR=127.0.0.1:50051');
    env = cliEnv({ PATH: `${BIN}:${process.env.PATH}`, EXEC_ADDR: server.address, npm_config_update_notifier: 'false' });
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A command in bash, in the repository, stdout and stderr as one stream (as a terminal shows them). */
  function sh(command: string, e: NodeJS.ProcessEnv = env, cwd = ROOT, timeout = 120_000): Promise<{ code: number; out: string }> {
    return promisify(execFile)('bash', ['-c', `exec 2>&1; ${command}`], { cwd, env: e, encoding: 'utf8', timeout }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (err: { code?: number; stdout?: string }) => ({ code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? '' }),
    );
  }

  it('README "Use it from the terminal": each command, and what the README shows it printing', async () => {
    const [first, detached, ps, logs, cp, status, kill, events, stopWaitRm] = [
      `npx exec-stream run exec-stream/busybox:latest sh -c 'echo hello; echo oops >&2; exit 3'; echo "exit $?"`,
      `id=$(npx exec-stream run -d -l job=nightly --memory 256m --timeout 10m exec-stream/busybox:latest sh -c 'sleep 30; echo done')`,
      'npx exec-stream ps --filter label=job=nightly',
      'npx exec-stream logs "$id"',
      'npx exec-stream cp ./src <container>:/tmp',
      'npx exec-stream status --usage <container>; npx exec-stream pause <container>; npx exec-stream resume <container>',
      'npx exec-stream kill -s SIGTERM <container>',
      'npx exec-stream events --since-id 0 --json',
      'npx exec-stream stop -t 5 "$id"; npx exec-stream wait "$id"; npx exec-stream rm "$id"',
    ].map(one);
    take('console');
    // The lines the README shows, in a terminal's one stream: stdout's and stderr's lines may come in either order there.
    const shown = byText.get(first)![0].output!;
    // The first command and the detached session are containers of their own: started side by side.
    // `sleep 30` as `sleep 600`: on a busy machine the commands below may take longer than 30 s, and they need it running.
    const [got, started] = await Promise.all([sh(first), sh(detached.replace(/^id=\$\((.*)\)$/, '$1').replace('sleep 30;', 'sleep 600;'))]);
    expect(got.code).toBe(0);
    const printed = got.out.trimEnd().split('\n');
    expect({ last: printed.at(-1), all: [...printed].sort() }).toEqual({ last: shown.at(-1), all: [...shown].sort() });

    expect(started.code).toBe(0);
    const id = started.out.trim();
    expect(id).toMatch(/^[a-z0-9-]+\.[0-9a-f-]{36}$/);
    const withId = { ...env, id };

    // The events command, started now (its npx start-up overlaps the commands below): the session's
    // created and started events came before it, so it has them only from the held ones (--since-id 0).
    // In a process group of its own: Ctrl-C in a terminal reaches the whole foreground group (npx and the CLI under it).
    const follower = spawn('bash', ['-c', events], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let eventsOut = '';
    follower.stdout.on('data', (d: Buffer) => (eventsOut += d.toString()));
    const eventsEnd = new Promise<number | string | null>((resolve) => follower.once('close', (code, signal) => resolve(code ?? signal)));
    let container = '';
    /** The types of the events of the session's container printed so far (whole lines only). */
    const containerEvents = (): string[] =>
      eventsOut
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l) as { containerId?: string; type: string })
        .filter((e) => e.containerId === container)
        .map((e) => e.type);
    try {
      // ps, ls and logs only read: side by side.
      // The commands the README does not show (the checks) run the CLI itself, linked into node_modules/.bin
      // by the build: npx in front of it adds a second of start-up to each.
      const [inPs, listed, logged] = await Promise.all([sh(ps, withId), sh('exec-stream ls --label job=nightly --json', withId), sh(logs, withId)]);
      expect(inPs).toEqual({ code: 0, out: expect.stringContaining(id) });
      expect(logged).toEqual({ code: 0, out: '' }); // nothing printed yet, and it does not wait
      container = JSON.parse(listed.out).find((s: { session_id: string }) => s.session_id === id).container_id as string;
      const withContainer = (c: string) => c.replaceAll('<container>', container);

      const [inspected, copiedIn] = await Promise.all([dockerAsync('inspect', container), sh(withContainer(cp))]);
      const inspect = JSON.parse(inspected)[0];
      expect([inspect.HostConfig.Memory, inspect.Config.Labels.job]).toEqual([256 * 1024 * 1024, 'nightly']);
      expect(copiedIn).toEqual({ code: 0, out: '' });
      const copied = await sh(`exec-stream exec ${container} cat /tmp/src/main.ts`);
      expect(copied.out).toBe(readFileSync(join(ROOT, 'src', 'main.ts'), 'utf8'));
      const st = await sh(withContainer(status));
      expect(st.code).toBe(0);
      expect(st.out).toMatch(/running/);
      // pause and resume print the container on success (docs/CLI.md).
      expect(st.out.trim().split('\n').slice(-2)).toEqual([container, container]);
      await waitUntil(`events to show the resume of ${container}`, () => containerEvents().includes('resumed'), 20_000);

      expect(await sh(withContainer(kill))).toEqual({ code: 0, out: `${container}\n` }); // like pause and resume, it names the container
      // SIGTERM reaches sh through Docker's init (EXEC_CONTAINER_INIT, on by default): 128 + 15.
      expect(await sh('exec-stream attach "$id"', withId)).toEqual({ code: 143, out: '' });
      await waitUntil(`events to show the exit of ${container}`, () => containerEvents().includes('exited'), 20_000);
    } catch (err) {
      if (follower.exitCode === null && follower.signalCode === null) process.kill(-follower.pid!, 'SIGINT');
      throw err;
    }
    process.kill(-follower.pid!, 'SIGINT'); // "until Ctrl-C" (and it must not have ended before)
    // stop (already ended: no error) prints the target, wait its exit code, rm the target it forgot; while the events command ends.
    const [end, stopped] = await Promise.all([eventsEnd, sh(stopWaitRm, withId)]);
    // The CLI exits 0 on Ctrl-C (test/cli/cli.e2e-spec.ts); npx in front of it dies of the same SIGINT.
    expect([0, 'SIGINT']).toContain(end);
    const lines = eventsOut
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((e) => e.containerId === container).map((e) => e.type)).toEqual(
      expect.arrayContaining(['created', 'started', 'paused', 'resumed', 'killed', 'exited']),
    );
    expect(stopped).toEqual({ code: 0, out: `${id}\n143\n${id}\n` });
    expect((await sh('exec-stream logs "$id"', withId)).code).toBe(125); // forgotten
  }, 300_000);

  it('OPERATIONS.md: the CLI commands its tables point to', async () => {
    const [ls, attachFrom, usage, kill] = [
      'exec-stream ls',
      'exec-stream attach --from 1 <session>',
      'exec-stream status --usage <container>',
      'exec-stream kill <container>',
    ].map(one);
    take('operations');
    const started = await sh(`exec-stream run -d exec-stream/busybox:latest sh -c 'echo one; exec sleep 600'`);
    expect(started.code).toBe(0);
    const id = started.out.trim();
    const [listed, json] = await Promise.all([sh(ls), sh('exec-stream ls --json')]); // both only read
    expect({ code: listed.code, holds: listed.out.includes(id) }).toEqual({ code: 0, holds: true });
    const container = JSON.parse(json.out).find((x: { session_id: string }) => x.session_id === id).container_id as string;
    const st = await sh(usage.replace('<container>', container));
    expect({ code: st.code, out: st.out }).toEqual({ code: 0, out: expect.stringMatching(/running[\s\S]*memory/i) });
    expect(await sh(kill.replace('<container>', container))).toEqual({ code: 0, out: `${container}\n` });
    // Read again from its first chunk: all it printed, and its end (SIGKILL: 137).
    expect(await sh(attachFrom.replace('<session>', id))).toEqual({ code: 137, out: 'one\n' });
  });

  it('CLI.md: the first example, and the ways to start the CLI in this repository', async () => {
    const [example, byPath, byNpx, withAddr] = [
      `exec-stream run exec-stream/busybox:latest sh -c 'echo hi; exit 3'; echo $?`,
      'node packages/client/dist/cli/main.js …',
      'npx exec-stream …',
      'exec-stream --addr h:p ls',
    ].map(one);
    take('CLI.md');
    const noAddr = { ...env };
    delete noAddr.EXEC_ADDR;
    // Four CLI processes of their own (the example's container its own; the others only list): side by side.
    // `…` is any command: the cheapest that reaches the service is `ls`.
    const starts: [string, NodeJS.ProcessEnv][] = [
      [byPath.replace('…', 'ls --json'), env],
      [byNpx.replace('…', 'ls --json'), env],
      [withAddr.replace('h:p', server.address).replace('ls', 'ls --json'), noAddr],
    ];
    const [ran, ...listed] = await Promise.all([sh(example), ...starts.map(([c, e]) => sh(c, e))]);
    expect(ran).toEqual({ code: 0, out: 'hi\n3\n' });
    listed.forEach((r, i) => expect({ command: starts[i][0], ...r }).toMatchObject({ command: starts[i][0], code: 0, out: expect.stringMatching(/^\[/) }));
  });

  it('a terminal (tmux): run -it, a typed command, Ctrl-P Ctrl-Q, then attach to the same shell (README and CLI.md)', async () => {
    ensureTmux();
    const readme = ['npx exec-stream run -it exec-stream/busybox:latest sh', 'npx exec-stream attach 5f0c…'].map(one);
    const cliMd = ['exec-stream run -it exec-stream/busybox:latest sh', 'exec-stream attach <session-id>'].map(one);
    one('exec-stream attach <session>');
    take('terminal');
    const shownRun = byText.get(readme[0])![0].output!;
    const typed = shownRun[0].replace(/^\/ # /, ''); // `echo $((6*7))`
    const answer = shownRun[1]; // 42
    const detachLine = shownRun.find((l) => l.startsWith('exec-stream: detached'))!.replace(/ 5f0c…$/, '');
    // README's pair and CLI.md's, each in a terminal of its own (a tmux server each, its own session on the
    // service) as two users (a config folder each, so a client id each: attach after a detach is its starter's): side by side.
    const session = async (name: string, [run, attach]: string[]) => {
      const config = join(tmp, `config-${name}`);
      mkdirSync(config);
      const pane = TmuxPane.start(`doc-commands-${name}`, 'exec bash --norc', { ...env, XDG_CONFIG_HOME: config });
      try {
        pane.type(`${run}; echo "run-rc=$?"`);
        await pane.until(/^\/ # $/m, 60_000); // npx, the CLI and a container starting, beside the other terminal's
        pane.type(typed);
        await pane.until(new RegExp(`^${answer}$`, 'm'));
        pane.keys('C-p', 'C-q');
        const [, sessionId] = await pane.until(new RegExp(`^${detachLine.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ([a-z0-9-]+\\.[0-9a-f-]{36})$`, 'm'));
        await pane.until(/^run-rc=0$/m);
        pane.type(`${attach.replace(/5f0c…|<session-id>/, sessionId)}; echo "attach-rc=$?"`);
        pane.type('echo back-$((40+2))');
        await pane.until(/back-42$/m, 60_000); // the CLI starting again
        pane.type('exit'); // "`exit` ends it"
        await pane.until(/^attach-rc=0$/m);
      } finally {
        pane.kill();
      }
    };
    await Promise.all([session('readme', readme), session('cli-md', cliMd)]);
  });

  it('npm run docker:up answers at once with the engine up; npm start serves on EXEC_LISTEN and drains on SIGTERM', async () => {
    const dataDir = join(tmp, 'npm-start');
    const address = `127.0.0.1:${await freePort()}`;
    const startEnv = { ...env, EXEC_LISTEN: address, EXEC_DATA_DIR: dataDir };
    // `npm start` in a process group of its own, so that SIGTERM reaches npm, bash and node alike.
    const proc = spawn('bash', ['-c', one('npm start')], { cwd: ROOT, env: startEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<number | null>((resolve) => proc.once('close', resolve));
    try {
      // docker:up while npm start starts: it only checks the engine and the image, and changes neither when they are there.
      expect(await sh(one('npm run docker:up'))).toMatchObject({ code: 0, out: expect.stringMatching(/\[docker-up\] ready/) });
      await waitUntil(`npm start to listen on ${address} (so far: ${out.slice(-300)})`, () => out.includes('"exec-stream listening"') || undefined, 120_000);
      expect(await sh('exec-stream ls --json', { ...env, EXEC_ADDR: address })).toEqual({ code: 0, out: '[]\n' });
    } finally {
      process.kill(-proc.pid!, 'SIGTERM');
    }
    await ended;
    expect(out).toMatch(/drain/i);
  });

  it('the benchmark tools, each with the cheapest arguments that still run it through', async () => {
    // (`npm run bench:*` is setup + build, done above, then the same node program.)
    const tools = take('bench tools').map((c) => c.command);
    const run = async (command: string) => {
      const r = await sh(command);
      if (r.code !== 0) throw new Error(`${command} exited ${r.code}:\n${r.out.slice(-2000)}`);
      return r.out;
    };
    expect(tools).toEqual(expect.arrayContaining(['node dist/bench/hot-path.js 256 5', 'node dist/bench/hot-path.js [MiB] [reps]']));
    const idle = tools.find((c) => c.includes('memoryProbe:true'))!;
    const prof = join(tmp, 'prof');
    // Each tool is a program of its own, and those that start a service start their own (its own port, data
    // dir and replica id: bench/server-process.ts; memory's, a container of its own): in two lanes side by
    // side, beside the idle server's 3 s (two or three programs at a time, not six on two cores), and every
    // lane is awaited (the first failure is reported once all have ended).
    const branches = await Promise.allSettled([
      // An idle server's memory, as BENCHMARKS.md measures it (built service, the memory probe, 3 s after listening).
      (async () => expect(await run(idle)).toMatch(/rssAnon: [\d.]+,/))(),
      (async () => {
        // hot-path: 1 MiB, one repetition
        expect(await run('node dist/bench/hot-path.js 1 1')).toMatch(/pieces on .*median/);
        // cpuprofile-summary on a profile the way --cpu-prof-dir writes them
        await run(`node --cpu-prof --cpu-prof-dir=${prof} -e 'let s = 0; for (let i = 0; i < 3e7; i++) s += i % 7; console.log(s)'`);
        for (const top of ['40', '30']) expect(await run(`node dist/bench/cpuprofile-summary.js ${prof} ${top}`)).toMatch(/self time by area/);
        // list-sessions: a few sessions, a few calls
        expect(await run('node_modules/.bin/node dist/bench/list-sessions.js --sessions=3 --calls=2 --small-bytes=100 --large-bytes=1K --json')).toMatch(/p50/);
        // module-footprint: its eight sets, a short rest; each set loads more modules than the one before
        const printed = await run('node_modules/.bin/node dist/bench/module-footprint.js --rest-ms=50 --json');
        const footprint = JSON.parse(printed.slice(printed.indexOf('['))) as Array<{
          set: string;
          modules: number;
          rssMiB: number;
        }>;
        expect(footprint.map((r) => r.set)).toEqual(expect.arrayContaining(['bare Node', "+ the service's app module (and dockerode)"]));
        expect(footprint.every((r, i) => r.rssMiB > 0 && (i === 0 || r.modules > footprint[i - 1].modules))).toBe(true);
      })(),
      (async () => {
        // copy-files: the documented flags, 1 MiB
        expect(await run('node dist/bench/copy-files.js --bytes=1M --chunk=64K --node-args="--max-semi-space-size=1"')).toMatch(/CopyTo/);
        // memory: the documented flags with small sizes, on the image scripts/image-build.sh builds
        // (Cached per tree; a tree changed since the last build takes minutes here, and test/image.e2e-spec.ts then finds it built.)
        const built = await sh('bash scripts/image-build.sh 2>/dev/null', env, ROOT, 900_000);
        if (built.code !== 0) throw new Error(`scripts/image-build.sh exited ${built.code}:\n${built.out.slice(-2000)}`);
        const image = built.out.trim().split('\n').pop()!;
        const memoryFlags =
          `--limit=1g --scenarios=fanout,stalled,sessions --stalled-bytes=1M --fanout-clients=2 --fanout-bytes=64K --sessions=2 --session-bytes=64K ` +
          `--node-args="--max-semi-space-size=1 --max-old-space-size=96" --env=EXEC_TAIL_BUDGET_BYTES=16777216 --image=${image}`;
        expect(await run(`node dist/bench/memory.js ${memoryFlags}`)).toMatch(/sessions/);
      })(),
    ]);
    const failed = branches.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed) throw failed.reason;
  }, 900_000);
});

afterAll(() => {
  // Every command a case here was to run was run (a case that skipped one would leave it out); a focused run (-t) runs only some.
  if (process.argv.some((a) => a === '-t' || a.startsWith('--testNamePattern'))) return;
  const mustRunHere = Object.entries(HOW)
    .filter(([, how]) => 'here' in how)
    .map(([text]) => text);
  const missed = mustRunHere.filter((t) => byText.has(t) && !ran.has(t));
  if (missed.length) throw new Error(`commands of the docs no case ran: ${missed.join(' | ')}`);
});
