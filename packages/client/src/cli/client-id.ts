import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * This user's client_id: the service lets a later attach with the starter's client_id write stdin and
 * resize (what `attach` after a detach needs). EXEC_CLIENT_ID, else a random id kept in
 * $XDG_CONFIG_HOME/exec-stream/client-id (made on first use), else one for this invocation only.
 */
export function clientId(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EXEC_CLIENT_ID) return env.EXEC_CLIENT_ID;
  const file = join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'exec-stream', 'client-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (id) return id;
  } catch {
    /* not made yet */
  }
  const id = `cli-${randomBytes(16).toString('hex')}`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${id}\n`, { mode: 0o600, flag: 'wx' });
  } catch {
    try {
      return readFileSync(file, 'utf8').trim() || id; // another invocation made it first
    } catch {
      /* not writable: this invocation's own id */
    }
  }
  return id;
}
