import { status as Code } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecSession, ProcessOptions } from '@exec-stream/client';
import { BASE_IMAGE, freePort, startTestServer, type TestServer } from './support/server';
import { grpcError } from './support/helpers';
import { QUOTED_MAX_CHARS, quoted } from '../src/common/request-ids';

// A real registry on loopback (scripts/registry.sh: Debian's docker-registry, htpasswd auth), the
// project's base image pushed into it and removed from the engine; the service pulls it back.
const USER = 'exec-stream';
const PASSWORD = randomBytes(12).toString('hex');

let server: TestServer;
let port: number;
let registry: string;
let image: string;
let dockerConfig: string;

/** The docker CLI with its own config dir: the machine's ~/.docker is never written. */
const cli = (args: string[], input?: string) =>
  execFileSync('docker', args, { encoding: 'utf8', input, env: { ...process.env, DOCKER_CONFIG: dockerConfig } }).trim();
const engineHas = (ref: string) => {
  try {
    cli(['image', 'inspect', ref]);
    return true;
  } catch {
    return false;
  }
};
const removeLocal = (ref: string) => {
  if (engineHas(ref)) cli(['rmi', ref]);
  expect(engineHas(ref)).toBe(false);
};

beforeAll(async () => {
  port = await freePort();
  registry = execFileSync('bash', ['scripts/registry.sh', 'start', String(port), USER, PASSWORD], { encoding: 'utf8' }).trim();
  expect(registry).toBe(`127.0.0.1:${port}`);
  dockerConfig = mkdtempSync(join(tmpdir(), 'exec-stream-pull-'));
  // docker login writes the config.json (with "auths") the service then reads as EXEC_REGISTRY_AUTH_FILE.
  cli(['login', registry, '-u', USER, '--password-stdin'], PASSWORD);
  image = `${registry}/busybox:e2e-${process.pid}-${Date.now()}`;
  cli(['tag', BASE_IMAGE, image]);
  cli(['push', image]);
  removeLocal(image);
  server = await startTestServer({ EXEC_REGISTRY_AUTH_FILE: join(dockerConfig, 'config.json') });
}, 120_000);
afterAll(async () => {
  await server?.close();
  if (dockerConfig) {
    for (const ref of [image, image?.replace(registry, `localhost:${port}`)]) if (ref && engineHas(ref)) cli(['rmi', ref]);
    rmSync(dockerConfig, { recursive: true, force: true });
  }
  if (port) execFileSync('bash', ['scripts/registry.sh', 'stop', String(port)]);
});

/** Runs `echo pulled` from `ref` and returns the session once it ended, with its output. */
async function runEcho(ref: string, options: ProcessOptions): Promise<{ session: ExecSession; stdout: string; exitCode: number }> {
  const session = server.client.run(ref, { command: ['echo', 'pulled'], ...options });
  const r = await session.collect();
  return { session, stdout: r.stdout.toString(), exitCode: r.exitCode };
}

/** An image as a message names it: as sent, or quoted and cut short when it is longer than a message quotes in full. */
const named = (image: string) => (image.length > QUOTED_MAX_CHARS ? quoted(image) : image).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const expectCode = async (p: Promise<unknown>, code: Code, text: RegExp) => {
  const e = await grpcError(p);
  expect({ code: Code[e.code], details: e.details }).toEqual({ code: Code[code], details: expect.stringMatching(text) });
};

describe('Start.pull', () => {
  it('never (the default): an image the engine lacks is NOT_FOUND naming it', async () => {
    await expectCode(server.client.run(image, { command: ['true'] }).ready, Code.NOT_FOUND, new RegExp(`image ${named(image)}`));
    await expectCode(server.client.run(image, { command: ['true'], pull: 'never' }).ready, Code.NOT_FOUND, new RegExp(`image ${named(image)}`));
  });

  it('if_missing pulls with the credentials of EXEC_REGISTRY_AUTH_FILE, reports progress before Ready, and runs', async () => {
    expect(JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')).auths).toHaveProperty([registry]);
    const { session, stdout, exitCode } = await runEcho(image, { pull: 'if_missing' });
    expect({ stdout, exitCode }).toEqual({ stdout: 'pulled\n', exitCode: 0 });
    expect(session.pullProgress.length).toBeGreaterThan(0);
    expect(session.pullProgress.every((p) => p.image === image)).toBe(true);
    expect(session.pullProgress.map((p) => p.status).join('\n')).toMatch(/Digest: sha256:|Downloaded newer image/);
    expect(engineHas(image)).toBe(true);

    // Present now: if_missing does not pull again (no progress at all).
    const again = await runEcho(image, { pull: 'if_missing' });
    expect({ stdout: again.stdout, progress: again.session.pullProgress.length }).toEqual({ stdout: 'pulled\n', progress: 0 });
  });

  it('always pulls even when the engine has the image', async () => {
    expect(engineHas(image)).toBe(true);
    const { session, stdout } = await runEcho(image, { pull: 'always' });
    expect(stdout).toBe('pulled\n');
    expect(session.pullProgress.map((p) => p.status).join('\n')).toMatch(/Image is up to date/);
  });

  it('per-request credentials are used instead of the file: wrong ones are UNAUTHENTICATED naming the registry, right ones pull', async () => {
    removeLocal(image);
    await expectCode(
      server.client.run(image, { command: ['true'], pull: 'if_missing', registryAuth: { username: USER, password: 'wrong-password' } }).ready,
      Code.UNAUTHENTICATED,
      new RegExp(`image ${named(image)} from registry ${registry}`),
    );
    expect(engineHas(image)).toBe(false);
    const { stdout } = await runEcho(image, { pull: 'if_missing', registryAuth: { username: USER, password: PASSWORD, serverAddress: registry } });
    expect(stdout).toBe('pulled\n');
  });

  it('EXEC_REGISTRY_AUTH_FILE is read again at every pull: a rotated file applies without a restart', async () => {
    const file = join(dockerConfig, 'config.json');
    const good = readFileSync(file, 'utf8');
    try {
      // Rotated to a password the registry refuses: the next pull is refused.
      writeFileSync(file, JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${USER}:not-the-password`).toString('base64') } } }));
      removeLocal(image);
      await expectCode(server.client.run(image, { command: ['true'], pull: 'if_missing' }).ready, Code.UNAUTHENTICATED, new RegExp(`registry ${registry}`));
      // Rotated back: the same service pulls.
      writeFileSync(file, good);
      expect((await runEcho(image, { pull: 'if_missing' })).stdout).toBe('pulled\n');
    } finally {
      writeFileSync(file, good);
    }
  });

  it('a registry the file has no credentials for is UNAUTHENTICATED (same registry, named localhost)', async () => {
    const other = image.replace(registry, `localhost:${port}`);
    await expectCode(server.client.run(other, { command: ['true'], pull: 'if_missing' }).ready, Code.UNAUTHENTICATED, new RegExp(`registry localhost:${port}`));
  });

  it('a tag the registry does not have is NOT_FOUND naming the image', async () => {
    const missing = `${registry}/busybox:no-such-tag`;
    await expectCode(server.client.run(missing, { command: ['true'], pull: 'if_missing' }).ready, Code.NOT_FOUND, new RegExp(`image ${named(missing)}`));
  });

  it('a registry that does not answer is UNAVAILABLE naming it', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    await expectCode(server.client.run(`${down}/busybox:x`, { command: ['true'], pull: 'always' }).ready, Code.UNAVAILABLE, new RegExp(`registry ${down}`));
  });

  it('a bad policy, or pull on an exec, is INVALID_ARGUMENT', async () => {
    await expectCode(
      server.client.start({ image, command: ['true'], pull: 'sometimes' }).ready,
      Code.INVALID_ARGUMENT,
      /pull must be one of never, if_missing, always/,
    );
    await expectCode(server.client.start({ container_id: 'abc', command: ['true'], pull: 'always' }).ready, Code.INVALID_ARGUMENT, /apply to a run/);
    await expectCode(
      server.client.start({ image, command: ['true'], pull: 'always', registry_auth: { password: 'x' } }).ready,
      Code.INVALID_ARGUMENT,
      /registry_auth needs username/,
    );
  });
});
