import { buildService, childService, type ChildService } from '../support/child-service';
import { sha256 } from '../support/helpers';
import { BASE_IMAGE } from '../support/server';

/**
 * The service with its stdout on a full disk (/dev/full: every write fails with ENOSPC), as a service
 * whose log file's disk filled up: its log lines are dropped (src/common/log-destination.ts), and the
 * service starts, serves and ends as it would with them.
 */
let svc: ChildService;
beforeAll(async () => {
  buildService();
  svc = await childService({}, { stdout: '/dev/full' });
  await svc.start();
}, 60_000);
afterAll(() => svc?.dispose());

it('with stdout on a full disk it listens, serves a session byte-exact with its exit code, and ends on SIGTERM', async () => {
  const expected = Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join('');
  const r = await svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'seq 1 2000; exit 4'] }).collect();
  expect({ exitCode: r.exitCode, stdout: sha256(r.stdout), stderr: r.stderr.length }).toEqual({ exitCode: 4, stdout: sha256(expected), stderr: 0 });
  expect(await svc.stop('SIGTERM', 15_000)).toMatchObject({ signal: 'SIGTERM' });
});
