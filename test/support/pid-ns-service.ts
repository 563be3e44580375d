import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { freePort } from './server';

const ROOT = join(__dirname, '..', '..');

/**
 * The built service (run buildService() first) in a pid namespace of its own with its own /proc
 * (unshare --pid --fork --mount-proc): it cannot see the host's processes, as when it runs in a
 * container without --pid=host. Killing it (SIGKILL to unshare, --kill-child) ends the namespace.
 */
export async function serviceInOwnPidNamespace(env: Record<string, string> = {}) {
  const address = `127.0.0.1:${await freePort()}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-pidns-'));
  const replicaId = `e2e-pidns-${address.split(':')[1]}-${process.pid}`;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    EXEC_LISTEN: address,
    EXEC_DATA_DIR: dataDir,
    EXEC_LOG_LEVEL: 'info',
    EXEC_REPLICA_ID: replicaId,
    ...env,
  };
  delete childEnv.NODE_OPTIONS;
  const proc: ChildProcess = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'bash', join(ROOT, 'scripts', 'serve.sh')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('"exec-stream listening"')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`service in its own pid namespace exited (${code}): ${stderr}`)));
  });
  const connection = new GRPCConnectionManager({ address });
  return {
    address,
    replicaId,
    connection,
    client: new ExecClient(connection),
    async dispose() {
      connection.close();
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
