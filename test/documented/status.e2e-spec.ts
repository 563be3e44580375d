// docs/LIFECYCLE.md, ContainerStatus: resource usage while paused, and I/O bytes (sums of Docker's
// blkio Read / Write entries). The `unknown` status is in lost-outcome and durability.
import { execFileSync } from 'node:child_process';
import { ControlClient } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { docker, managedLabels } from '../support/helpers';
import { backgroundReader, removeContainers, waitUntil } from '../support/conditions';

let server: TestServer;
let control: ControlClient;
const fixtures: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
  control = new ControlClient(server.connection);
});
afterAll(async () => {
  removeContainers(fixtures);
  await server?.close();
});

it('usage is reported while paused: memory held, and CPU 0 once the readings cover the freeze', async () => {
  const s = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo go; while :; do :; done'] });
  const { containerId } = await s.ready;
  const out = backgroundReader(s.output());
  await out.until('go\n');
  await control.pause(containerId);
  const paused = await waitUntil('two readings inside the pause (cpu 0)', async () => {
    const st = await control.status(containerId, true);
    return st.resourceUsage?.cpuPercent === 0 && st;
  });
  expect(paused.status).toBe('paused');
  expect(paused.resourceUsage!.memoryBytes).toBeGreaterThan(0);
  expect(paused.resourceUsage!.memoryLimit).toBeGreaterThan(0);
  await control.resume(containerId);
  await control.signal(containerId, 'KILL');
  await out.done;
  expect(await s.exit).toBe(137);
});

it('io_read_bytes / io_write_bytes are the Read and Write bytes Docker accounts (not Sync or Total)', async () => {
  // The service sets no blkio limits, and without one this kernel accounts no block I/O to a cgroup;
  // so the fixture is a managed container made with a (generous) throttle on the data disk, doing
  // 8 MiB of direct writes, then 4 MiB of direct reads.
  const device = execFileSync('df', ['--output=source', '/var/lib/docker'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const id = docker(
    'run',
    '-d',
    ...managedLabels(server.config.EXEC_REPLICA_ID),
    '--device-write-bps',
    `${device}:1gb`,
    '--device-read-bps',
    `${device}:1gb`,
    BASE_IMAGE,
    'sh',
    '-c',
    'dd if=/dev/zero of=/tmp/f bs=1M count=8 oflag=direct 2>/dev/null; dd if=/tmp/f of=/dev/null bs=1M count=4 iflag=direct 2>/dev/null; touch /tmp/done; sleep 300',
  );
  fixtures.push(id);
  await waitUntil('the fixture did its I/O', () => docker('exec', id, 'sh', '-c', 'test -f /tmp/done && echo y || echo n') === 'y');
  const st = await waitUntil('a reading after the I/O', async () => {
    const r = await control.status(id, true);
    return (r.resourceUsage?.ioWriteBytes ?? 0) >= 8 * 2 ** 20 && (r.resourceUsage?.ioReadBytes ?? 0) >= 4 * 2 ** 20 && r;
  });
  expect(st.status).toBe('running');
  // Exactly what was done, give or take a little metadata I/O: a sum over Sync/Total would double it.
  expect(st.resourceUsage!.ioWriteBytes).toBeLessThan(9 * 2 ** 20);
  expect(st.resourceUsage!.ioReadBytes).toBeLessThan(5 * 2 ** 20);
});
