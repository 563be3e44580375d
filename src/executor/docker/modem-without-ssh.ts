import Module from 'node:module';
import { dirname } from 'node:path';

/**
 * docker-modem (dockerode's transport) loads its ssh transport, and with it ssh2, when it loads, in a
 * service that never uses them (DOCKER_HOST=ssh:// is refused at start: docker-host.ts; the cost:
 * docs/BENCHMARKS.md "docker-modem's ssh transport kept unloaded"). Put before dockerode loads, a stand-in for
 * that one file keeps ssh2 out of the process; a call of it says why. Where the file is not found
 * (another docker-modem layout) or modules are not loaded through Node's cache (jest), nothing changes.
 */
export function keepSshTransportUnloaded(): boolean {
  let path: string;
  try {
    path = require.resolve('docker-modem/lib/ssh.js', { paths: [dirname(require.resolve('dockerode'))] });
  } catch {
    return false;
  }
  const cache = require.cache as NodeJS.Dict<NodeJS.Module> | undefined;
  if (!cache || cache[path]) return false;
  const standIn = new Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = () => {
    throw new Error('Docker over ssh:// is not supported by exec-stream (use tcp:// with TLS)');
  };
  cache[path] = standIn;
  return true;
}

keepSshTransportUnloaded();
