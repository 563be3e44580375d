import { startTestServer, BASE_IMAGE, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server?.close());

it('runs a command and streams its output', async () => {
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo out; echo err >&2; exit 42'] });
  const ready = await s.ready;
  expect(ready.containerId).toMatch(/^[0-9a-f]{64}$/);
  const r = await s.collect();
  expect(r.stdout.toString()).toBe('out\n');
  expect(r.stderr.toString()).toBe('err\n');
  expect(r.exitCode).toBe(42);
});
