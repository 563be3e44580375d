import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'docker-engine.sh');
const run = promisify(execFile);

/**
 * scripts/docker-engine.sh NAME start|stop|kill without blocking this process's event loop (an
 * in-process service must keep running, and retrying, while the engine starts or stops).
 */
export async function engine(name: string, cmd: 'start' | 'stop' | 'kill' | 'socket'): Promise<string> {
  const { stdout } = await run('bash', [SCRIPT, name, cmd], { encoding: 'utf8' });
  return stdout.trim();
}
