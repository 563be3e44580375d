// Two replicas sharing one Docker engine, finding each other through a static EXEC_PEERS list (no DNS):
// a replica that drains (SIGTERM, as in a rolling restart) ends the calls it forwards as it ends its
// own clients' calls: UNAVAILABLE with a message to reconnect, never CANCELLED (which a resuming
// client takes as final), and the client resumes byte-exact through it once it is back.
import { status } from '@grpc/grpc-js';
import { ControlClient, ResumingSession } from '@exec-stream/client';
import { childService, type ChildService } from '../support/child-service';
import { waitUntil } from '../support/conditions';
import { freePort } from '../support/free-port';
import { BASE_IMAGE } from '../support/server';

let A: ChildService;
let B: ChildService;
beforeAll(async () => {
  const [pa, pb] = [await freePort(), await freePort()];
  const peers = `sp-a=127.0.0.1:${pa},sp-b=127.0.0.1:${pb}`; // one list for both: each ignores its own entry
  A = await childService({ EXEC_REPLICA_ID: 'sp-a', EXEC_PEERS: peers }, { port: pa });
  B = await childService({ EXEC_REPLICA_ID: 'sp-b', EXEC_PEERS: peers }, { port: pb });
  await Promise.all([A.start(), B.start()]);
});
afterAll(async () => {
  await A?.dispose();
  await B?.dispose();
});

it('SIGTERM of a replica forwarding a session: its client is told UNAVAILABLE to reconnect, resumes through it, and gets every byte and the exit code', async () => {
  const run = B.client.run(BASE_IMAGE, { command: ['sh', '-c', 'for i in $(seq 1 40); do echo "line $i"; sleep 0.1; done; exit 7'] });
  const { sessionId } = await run.ready;
  const errors: string[] = [];
  const via = ResumingSession.attach(A.client, { sessionId }, { reconnectWindowMs: 60_000, onReconnect: ({ error }) => errors.push(error.message) });
  const out: string[] = [];
  const reading = (async () => {
    for await (const p of via.output()) out.push(p.data.toString());
  })();
  await waitUntil('five lines through A', () => out.join('').includes('line 5\n'));
  await A.stop('SIGTERM');
  await A.start();
  await reading;
  expect(out.join('')).toBe(Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join(''));
  expect(await via.exit).toBe(7);
  expect(errors[0]).toMatch(/^14 UNAVAILABLE: replica sp-a, which forwarded this call, is shutting down; its owner goes on: reconnect/);
});

it('SIGTERM of a replica: its lifecycle subscribers (a merged stream) are told UNAVAILABLE to resume, not cut', async () => {
  const sub = new ControlClient(A.connection).lifecycle();
  let headers = false;
  sub.call.on('metadata', () => (headers = true));
  await waitUntil('subscribed', () => headers);
  await A.stop('SIGTERM');
  await waitUntil('the stream ended', () => sub.ended);
  expect({ code: sub.error?.code, details: sub.error?.details }).toEqual({
    code: status.UNAVAILABLE,
    details: expect.stringContaining('resume with resume_after_id'),
  });
  await A.start();
});
