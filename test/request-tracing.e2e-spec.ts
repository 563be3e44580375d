import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient, ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { buildService, childService, type ChildService } from './support/child-service';
import { waitUntil } from './support/conditions';
import { grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE } from './support/server';

const TOKEN = 'tracing-token-71c0e4a9b2d35f86';

let svc: ChildService;
const dir = mkdtempSync(join(tmpdir(), 'exec-stream-request-tracing-'));
const connections: GRPCConnectionManager[] = [];
/** A connection whose every call carries `x-request-id: requestId`. */
function withRequestId(requestId: string) {
  const c = new GRPCConnectionManager({ address: svc.address, token: TOKEN });
  c.getMetadata().set('x-request-id', requestId);
  connections.push(c);
  return { exec: new ExecClient(c), control: new ControlClient(c) };
}

beforeAll(async () => {
  buildService();
  const file = join(dir, 'tokens.json');
  writeFileSync(file, JSON.stringify([{ name: 'tracer', sha256: sha256(TOKEN), scopes: ['run', 'read'] }]));
  svc = await childService({ EXEC_AUTH_TOKENS_FILE: file });
  await svc.start();
}, 60_000);

afterAll(async () => {
  for (const c of connections) c.close();
  await svc?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('request tracing in logs', () => {
  it("carries the client's x-request-id, the call id, the method and the token name on every line of the call", async () => {
    const { exec } = withRequestId('trace-run-42');
    // A Start the handler refuses ends at warn with its code and message; the run ends at info.
    await grpcError(exec.run(BASE_IMAGE, { command: ['true'], env: { 'BAD=NAME': 'x' } }).wait());
    expect((await exec.run(BASE_IMAGE, { command: ['echo', 'traced'] }).collect()).stdout.toString()).toBe('traced\n');
    const lines = await waitUntil('two ended Session calls with the request id', () => {
      const mine = svc.logs.filter((l) => l.requestId === 'trace-run-42');
      return mine.filter((l) => l.msg === 'call ended').length === 2 && mine;
    });
    expect(lines.filter((l) => l.msg === 'call ended').map((l) => [l.level, l.code])).toEqual([
      [40, 'INVALID_ARGUMENT'],
      [30, 'OK'],
    ]);
    expect(lines.find((l) => l.code === 'INVALID_ARGUMENT')?.details).toMatch(/^invalid Start: env/);
    for (const l of lines) expect(l).toMatchObject({ method: 'Session', token: 'tracer', callId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // Two calls, two ids; every line of a call (by its id) carries the request id.
    const ids = new Set(lines.map((l) => l.callId));
    expect(ids.size).toBe(2);
    for (const l of svc.logs.filter((x) => ids.has(x.callId as string))) expect(l.requestId).toBe('trace-run-42');
    expect(JSON.stringify(svc.logs)).not.toContain(TOKEN);
  });

  it('logs a unary call with its method, token name and status code', async () => {
    const { control } = withRequestId('trace-status-7');
    expect((await grpcError(control.status('deadbeefdeadbeef'))).code).toBe(status.NOT_FOUND);
    const line = await waitUntil('the status call line', () => svc.logs.find((l) => l.requestId === 'trace-status-7' && l.msg === 'call ended'));
    expect(line).toMatchObject({ method: 'ContainerStatus', token: 'tracer', code: 'NOT_FOUND' });
  });

  it('refuses an x-request-id over 128 bytes with INVALID_ARGUMENT', async () => {
    const { control } = withRequestId('r'.repeat(129));
    const err = await grpcError(control.status('deadbeefdeadbeef'));
    expect({ code: status[err.code], details: err.details }).toEqual({ code: 'INVALID_ARGUMENT', details: expect.stringContaining('x-request-id') });
    expect((await grpcError(withRequestId('r'.repeat(128)).control.status('deadbeefdeadbeef'))).code).toBe(status.NOT_FOUND);
  });
});
