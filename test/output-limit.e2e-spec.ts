import { status as Code } from '@grpc/grpc-js';
import { grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

// A session's output limit (Start.output_limit_bytes within EXEC_SESSION_OUTPUT_BYTES): a runaway is ended
// with its own outcome reason, its output recorded exactly up to the limit; a session within it is untouched.
const MiB = 1024 * 1024;
let server: TestServer;
beforeAll(async () => {
  // Log driver `none`: Docker 20.10's `local` driver holds the kill of a container writing at full speed ~10 s.
  server = await startTestServer({ EXEC_SESSION_OUTPUT_BYTES: String(MiB), EXEC_CONTAINER_LOG_DRIVER: 'none' });
});
afterAll(() => server?.close());

describe('Start.output_limit_bytes', () => {
  it('a run writing without end is killed at its limit: reason output_limit, exit 137, exactly the limit recorded', async () => {
    const s = server.client.run(BASE_IMAGE, { command: ['yes'], outputLimitBytes: 65_536 });
    const r = await s.collect();
    expect({ exitCode: r.exitCode, bytes: r.stdout.length, content: r.stdout.toString() === 'y\n'.repeat(32_768), stderr: r.stderr.length }).toEqual({
      exitCode: 137,
      bytes: 65_536,
      content: true,
      stderr: 0,
    });
    expect(s.outcome).toMatchObject({
      reason: 'output_limit',
      exit_code: 137,
      stdout_bytes: '65536',
      message: 'ended by the service when its output reached its limit of 65536 bytes; what it wrote after was not recorded (exit code 137)',
    });
    // A later client of the finished session reads the same bytes and the same Outcome.
    const again = server.client.attach({ sessionId: (await s.ready).sessionId });
    expect(sha256((await again.collect()).stdout)).toBe(sha256(r.stdout));
    expect(again.outcome?.reason).toBe('output_limit');
  });

  it('0 takes EXEC_SESSION_OUTPUT_BYTES; an exec over its limit is killed and its container runs on', async () => {
    const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 3145728 /dev/zero; sleep 600'] });
    const r = await run.collect();
    expect({ exitCode: r.exitCode, bytes: r.stdout.length, reason: run.outcome?.reason }).toEqual({ exitCode: 137, bytes: MiB, reason: 'output_limit' });

    const box = server.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
    const { containerId } = await box.ready;
    const exec = server.client.exec(containerId, { command: ['sh', '-c', 'yes 0123456789abcdef >&2'], outputLimitBytes: 100_000 });
    const e = await exec.collect();
    expect({ exitCode: e.exitCode, stderr: e.stderr.length, reason: exec.outcome?.reason }).toEqual({ exitCode: 137, stderr: 100_000, reason: 'output_limit' });
    const after = await server.client.exec(containerId, { command: ['echo', 'still running'] }).collect();
    expect(after.stdout.toString()).toBe('still running\n');
  });

  it('a session within its limit is untouched; a limit above EXEC_SESSION_OUTPUT_BYTES is INVALID_ARGUMENT naming it', async () => {
    const ok = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 500000 /dev/urandom > /tmp/f; cat /tmp/f; sha256sum /tmp/f >&2; exit 3'] });
    const r = await ok.collect();
    expect({ exitCode: r.exitCode, reason: ok.outcome?.reason, sha: r.stderr.toString().split(' ')[0] }).toEqual({
      exitCode: 3,
      reason: 'exited',
      sha: sha256(r.stdout),
    });
    const err = await grpcError(server.client.run(BASE_IMAGE, { command: ['true'], outputLimitBytes: MiB + 1 }).collect());
    expect({ code: Code[err.code], details: err.details }).toEqual({
      code: 'INVALID_ARGUMENT',
      details: `output_limit_bytes ${MiB + 1} is above the maximum ${MiB} (EXEC_SESSION_OUTPUT_BYTES)`,
    });
  });
});
