import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'docker-engine.sh');

/** A second Docker engine of its own (scripts/docker-engine.sh), safe to stop and kill; never the shared one. */
export interface SecondEngine {
  name: string;
  /** DOCKER_HOST value for a service pointed at it: unix:///run/exec-stream-NAME/docker.sock. */
  host: string;
  /** Starts it (again; after a kill too) and waits until it answers with the base image loaded. */
  start(): void;
  /** SIGTERM to its dockerd, waiting for the exit. */
  stop(): void;
  /** SIGKILL to its dockerd (containerd dies with it; container processes outlive it until the next start). */
  kill(): void;
  /** The docker CLI against this engine. */
  docker(...args: string[]): string;
}

export function secondEngine(name: string): SecondEngine {
  const run = (cmd: string) => execFileSync('bash', [SCRIPT, name, cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const host = run('socket');
  return {
    name,
    host,
    start: () => void run('start'),
    stop: () => void run('stop'),
    kill: () => void run('kill'),
    docker: (...args) => execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8' }).trim(),
  };
}
