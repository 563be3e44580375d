import { status as Code, type ServiceError } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileClient, type PathStatInfo } from '../../file-client';
import { contextOf, resolveContainer } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions } from '../options';
import { writeOut } from '../tty';

/** One side of a copy: `-` (our stdin / stdout as a tar stream), a local path, or CONTAINER:PATH. */
export type CpEndpoint = { kind: 'stdio' } | { kind: 'local'; path: string } | { kind: 'container'; container: string; path: string };

/**
 * Docker's reading of a cp argument: `-` is stdio; an absolute path, one starting with `.`, or one
 * without `:` is local; otherwise CONTAINER:PATH (split at the first `:`).
 */
export function parseCpEndpoint(arg: string): CpEndpoint {
  if (arg === '-') return { kind: 'stdio' };
  const colon = arg.indexOf(':');
  if (arg.startsWith('/') || arg.startsWith('.') || colon < 0) return { kind: 'local', path: arg };
  if (colon === 0) throw new CliError(`no container before ":" in "${arg}" (a local path with ":" is written ./${arg})`);
  return { kind: 'container', container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Where tar unpacks (`dir`), and the name its top entry takes there (`rename`), when not its own. */
interface Target {
  dir: string;
  rename?: string;
}

/** Go's os.FileMode bits of a CopyFrom stat. */
const isDirMode = (mode: number) => Math.floor(mode / 2 ** 31) % 2 === 1;
const isLinkMode = (mode: number) => Math.floor(mode / 2 ** 27) % 2 === 1;
/** `path` names a directory's contents, not the directory (docker's `SRC/.`). */
const contentsOf = (path: string) => basename(path) === '.';

export function registerCp(program: Command): void {
  addConnectionOptions(program.command('cp'))
    .description('copy files between a container and the local file system (or a tar stream on stdin / stdout with "-"), as docker cp')
    .argument('<src>', 'CONTAINER:SRC_PATH, LOCAL_PATH, or - (a tar stream on stdin)')
    .argument('<dest>', 'CONTAINER:DEST_PATH, LOCAL_PATH, or - (a tar stream on stdout)')
    .action(async (srcArg: string, destArg: string, _flags: object, cmd: Command) => {
      const src = parseCpEndpoint(srcArg);
      const dest = parseCpEndpoint(destArg);
      // A session id (REPLICA.UUID) names its container, as everywhere.
      for (const side of [src, dest]) if (side.kind === 'container') side.container = await resolveContainer(cmd, side.container);
      if (src.kind === 'container' && dest.kind === 'container') throw new CliError('copying between containers is not supported');
      if (src.kind !== 'container' && dest.kind !== 'container') throw new CliError('one side of cp must be CONTAINER:PATH');
      const ctx = contextOf(cmd);
      const files = new FileClient(ctx.connection);
      try {
        if (src.kind === 'container') await copyOut(files, src, dest as Exclude<CpEndpoint, { kind: 'container' }>);
        else await copyIn(files, src, dest as Extract<CpEndpoint, { kind: 'container' }>);
      } catch (err) {
        throw new CliError(`cannot copy ${srcArg} to ${destArg}: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
    });
}

/** Container → stdout (the tar stream as it comes) or → a local path (unpacked by tar as it comes). */
async function copyOut(files: FileClient, src: { container: string; path: string }, dest: { kind: 'stdio' } | { kind: 'local'; path: string }): Promise<void> {
  const { stat, tar } = await files.copyFrom(src.container, src.path);
  try {
    if (dest.kind === 'stdio') {
      for await (const chunk of tar) await writeOut(process.stdout, chunk as Buffer);
      return;
    }
    await untar(tar, localTarget(dest.path, isDirMode(stat.mode)));
  } finally {
    tar.destroy(); // no-op once read through; otherwise cancels the call
  }
}

/**
 * Docker's rules for a local destination: an existing directory receives the source inside it; an
 * existing file is replaced by a file source (a directory source is refused); a missing path becomes
 * the source under that name, in a parent that must exist (`DEST/` must exist for a file source).
 */
function localTarget(dest: string, srcIsDir: boolean): Target {
  const st = statOrUndefined(dest);
  if (st?.isDirectory()) return { dir: dest };
  const full = resolve(dest);
  if (st && srcIsDir) throw new CliError(`cannot copy a directory to a file: ${dest}`);
  if (!st && !srcIsDir && /\/\.?$/.test(dest)) throw new CliError(`no such directory: ${dest}`);
  if (!st && !statOrUndefined(dirname(full))?.isDirectory()) throw new CliError(`no such directory: ${dirname(full)}`);
  return { dir: dirname(full), rename: basename(full) };
}

/** A local path or stdin → the container: tar packs the source as the copy reads it. */
async function copyIn(files: FileClient, src: { kind: 'stdio' } | { kind: 'local'; path: string }, dest: { container: string; path: string }): Promise<void> {
  if (src.kind === 'stdio') {
    await files.copyTo(dest.container, dest.path, process.stdin);
    return;
  }
  let st: Stats;
  try {
    st = lstatSync(src.path);
  } catch {
    throw new CliError(`no such file or directory: ${src.path}`);
  }
  const srcIsDir = st.isDirectory();
  const target = await containerTarget(files, dest, srcIsDir);
  const full = resolve(src.path);
  // `SRC/.` (or `/`): the directory's entries, named `./…`; otherwise SRC under its base name.
  const [from, member] = (srcIsDir && contentsOf(src.path)) || full === '/' ? [full, '.'] : [dirname(full), basename(full)];
  // Owned by root in the container, as docker cp makes them.
  const tar = startTar(['-c', '-f', '-', '--owner=0', '--group=0', '--numeric-owner', '-C', from, ...transform(target.rename), '--', member], 'out');
  try {
    await files.copyTo(dest.container, target.dir, tar.child.stdout!);
  } catch (err) {
    tar.child.kill();
    await tar.exited.catch(() => undefined);
    throw err;
  }
  await tar.exited;
}

/** The same rules as localTarget for a container path, from its stat (a CopyFrom cancelled after its first message). */
async function containerTarget(files: FileClient, dest: { container: string; path: string }, srcIsDir: boolean): Promise<Target> {
  let st = await statIn(files, dest.container, dest.path);
  if (st && isLinkMode(st.mode)) st = await statIn(files, dest.container, posix.resolve(posix.dirname(dest.path), st.linkTarget)); // one level, as docker
  if (st && isDirMode(st.mode)) return { dir: dest.path };
  if (st && srcIsDir) throw new CliError(`cannot copy a directory to a file: ${dest.container}:${dest.path}`);
  if (!st && !srcIsDir && /\/\.?$/.test(dest.path)) throw new CliError(`no such directory: ${dest.container}:${dest.path}`);
  const path = dest.path.replace(/\/+$/, '');
  return { dir: posix.dirname(path), rename: posix.basename(path) };
}

/** The stat of a container path, or undefined when it does not exist (other errors are thrown). */
async function statIn(files: FileClient, container: string, path: string): Promise<PathStatInfo | undefined> {
  try {
    const { stat, tar } = await files.copyFrom(container, path);
    tar.destroy();
    return stat;
  } catch (err) {
    // Not there (or no such container: then the copy itself says so).
    if ((err as Partial<ServiceError>).code === Code.NOT_FOUND) return undefined;
    throw err;
  }
}

/** Unpacks a tar stream into target.dir as it arrives (tar reads at its pace: flow control back to the call). */
async function untar(source: Readable, target: Target): Promise<void> {
  // Owned by the user running the CLI, as docker cp makes local files; modes and mtimes as archived.
  const tar = startTar(['-x', '-f', '-', '--no-same-owner', '-C', target.dir, ...transform(target.rename)], 'in');
  const [piped, exited] = await Promise.allSettled([pipeline(source, tar.child.stdin!), tar.exited]);
  if (piped.status === 'rejected' && (piped.reason as Partial<ServiceError>).code !== undefined) throw piped.reason; // the call failed first
  if (exited.status === 'rejected') throw exited.reason;
  if (piped.status === 'rejected') throw piped.reason;
}

/** GNU tar's rename of the top entry (its first name component; symlink targets untouched). */
function transform(rename: string | undefined): string[] {
  if (rename === undefined) return [];
  if (/[\n\0]/.test(rename) || rename === '' || rename === '.' || rename === '..') throw new CliError(`cannot name a copy ${JSON.stringify(rename)}`);
  return ['--transform', `s,^[^/]*,${rename.replace(/[\\&,]/g, (c) => `\\${c}`)},S`];
}

/** GNU tar as a child; `exited` rejects with its last line of stderr when it fails. */
function startTar(args: string[], pipe: 'in' | 'out'): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn('tar', args, { stdio: [pipe === 'in' ? 'pipe' : 'ignore', pipe === 'out' ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
  const exited = new Promise<void>((resolvePromise, reject) => {
    child.once('error', (err) => reject(new CliError(`cannot run tar (GNU tar is needed): ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) return resolvePromise();
      const last = stderr.trim().split('\n').filter(Boolean).at(-1);
      reject(new CliError(last ?? `tar ended with ${signal ?? `exit code ${code}`}`));
    });
  });
  exited.catch(() => undefined);
  return { child, exited };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
