/**
 * The client package as a consumer gets it: `npm pack` of packages/client (prepack builds it), the
 * tarball installed into a fresh project outside the repository (from npm's local cache, no registry
 * needed), with the optional Nest peers and @grpc/grpc-js. Made once per content of the package: a
 * second test file of the same run (or a later run with the same build) reuses the installed project.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const PKG = join(ROOT, 'packages', 'client');
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');
export const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const CACHE = join(tmpdir(), 'exec-stream-packed-client');
/**
 * Installed beside the package: its optional Nest peers, grpc-js for programs that make a Metadata, and
 * what the docs' snippets import (@nestjs/microservices, @nestjs/config, @nestjs/testing, testcontainers).
 */
const PEERS = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/microservices',
  '@nestjs/config',
  '@nestjs/testing',
  'rxjs',
  'reflect-metadata',
  '@grpc/grpc-js',
  'testcontainers',
];

const version = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** npm without jest's NODE_OPTIONS, failing with its output. */
export function npm(args: string[], cwd: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  delete env.NODE_OPTIONS;
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** A hash of what the tarball is made of (after a build), and of the peers' versions. */
function contentHash(): string {
  const h = createHash('sha256');
  for (const f of ['package.json', 'README.md']
    .map((n) => join(PKG, n))
    .concat(files(join(PKG, 'dist')), files(join(PKG, 'proto')))
    .sort()) {
    if (f.endsWith('.tsbuildinfo')) continue;
    h.update(relative(PKG, f)).update(readFileSync(f));
  }
  for (const p of PEERS) h.update(`${p}@${version(p)}`);
  return h.digest('hex').slice(0, 16);
}

export interface PackedClient {
  /** The tarball npm pack made. */
  tarball: string;
  /** The consumer project: package.json, node_modules with the package installed. */
  app: string;
}

/**
 * Runs `make` while holding a machine-wide lock (a directory holding the holder's pid): test files that
 * run side by side make the packed client once, and the second finds it made. A lock whose holder is
 * dead, or older than LOCK_STALE_MS (a holder killed before it wrote its pid), is taken over.
 */
function whileLocked<T>(lock: string, make: () => T): T {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock, { recursive: false });
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since === undefined) continue; // let go meanwhile
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        /* not written yet, or let go meanwhile: wait, or take over a stale one, below */
      }
      if ((holder && !isAlive(holder)) || Date.now() - since > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 200); // a synchronous wait: packedClient is synchronous
    }
  }
  try {
    return make();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
const LOCK_STALE_MS = 10 * 60_000;
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // there, but not ours to signal
  }
};

/** Builds the package, then packs and installs it (or finds the project made for the same content). */
export function packedClient(): PackedClient {
  execFileSync('bash', [join(ROOT, 'scripts', 'build-client.sh')], { stdio: 'pipe' });
  const dir = join(CACHE, contentHash());
  const app = join(dir, 'consumer');
  if (existsSync(join(dir, 'ready'))) return { tarball: readFileSync(join(dir, 'ready'), 'utf8'), app };
  mkdirSync(CACHE, { recursive: true });
  return whileLocked(join(CACHE, '.lock'), () => makePackedClient(dir, app));
}

function makePackedClient(dir: string, app: string): PackedClient {
  if (existsSync(join(dir, 'ready'))) return { tarball: readFileSync(join(dir, 'ready'), 'utf8'), app };
  for (const old of readdirSync(CACHE)) if (old !== '.lock') rmSync(join(CACHE, old), { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], PKG)) as { filename: string }[];
  const tarball = join(dir, packed.filename);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // --offline first (npm ci filled the cache: no network at all); --prefer-offline if the cache misses something.
  const install = ['install', '--no-package-lock', tarball, ...PEERS.map((n) => `${n}@${version(n)}`)];
  try {
    npm(['--offline', ...install], app);
  } catch {
    npm(['--prefer-offline', ...install], app);
  }
  writeFileSync(join(dir, 'ready'), tarball);
  return { tarball, app };
}

/**
 * A consumer project of its own (`name`) holding the programs of test/support/client-package-consumer
 * given, compiled with tsc against the installed package (its node_modules is the packed one's).
 */
export function compileConsumer(packed: PackedClient, name: string, programs: string[]): string {
  const dir = join(packed.app, '..', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (const f of ['package.json']) copyFileSync(join(packed.app, f), join(dir, f));
  execFileSync('ln', ['-s', join(packed.app, 'node_modules'), join(dir, 'node_modules')]);
  for (const f of programs) copyFileSync(join(__dirname, 'client-package-consumer', f), join(dir, 'src', f));
  // typescript and @types/node from the repository by path: the consumer project fetches nothing for them.
  writeFileSync(
    join(dir, 'tsconfig.json'),
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
  try {
    execFileSync(NODE, [TSC, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    throw new Error(`the consumer project does not compile:\n${String((err as { stdout?: string }).stdout)}`, { cause: err });
  }
  return dir;
}

/**
 * Runs a compiled consumer program with the project's Node (asynchronously: a service under test may
 * run in this process): its exit code and its last stdout line as JSON.
 */
export async function runProgram(file: string, args: string[], input?: string): Promise<{ code: number; out: any }> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(NODE, [file, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const lines = stdout.trim().split('\n');
  if (code === null || !lines[lines.length - 1].startsWith('{')) throw new Error(`${file} failed (${code}):\n${stdout}\n${stderr}`);
  return { code, out: JSON.parse(lines[lines.length - 1]) };
}
