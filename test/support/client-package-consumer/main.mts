// A consumer's program against the packed @exec-stream/client (test/client-package.e2e-spec.ts copies
// it into a fresh project outside the repository, compiles it with tsc and runs it): a run with stdin,
// a second client attached by session id, ContainerStatus, ContainerLifecycle. It prints one JSON line
// and exits with the remote process's exit code.
import { createHash } from 'node:crypto';
import { ControlClient, ExecClient, GRPCConnectionManager, type ContainerStatusInfo, type LifecycleEventInfo } from '@exec-stream/client';
import { PROTO_LOADER_OPTIONS, type SessionResponse__Output } from '@exec-stream/client/wire';

const [address, token, image] = process.argv.slice(2);
const connection = new GRPCConnectionManager({ address, token });
const client = new ExecClient(connection);
const control = new ControlClient(connection);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const run = client.run(image, {
  command: ['sh', '-c', 'echo up; read line; echo "got $line"; head -c 200000 /dev/zero | tr "\\0" z; echo e >&2; exit 4'],
  openStdin: true,
});
const { sessionId, containerId } = await run.ready;
const events = control.lifecycle({ containerId, resumeAfterId: 0 });
const stdout: Buffer[] = [];
const stderr: Buffer[] = [];
const pieces = run.output();
// next() by hand: a `break` out of for-await would end the generator.
while (!Buffer.concat(stdout).toString().includes('up\n')) {
  const next = await pieces.next();
  if (next.done) throw new Error('the output ended before "up"');
  (next.value.stream === 'stdout' ? stdout : stderr).push(next.value.data);
}
const status: ContainerStatusInfo = await control.status(containerId);
const attached = client.attach({ sessionId }).collect();
await run.write(Buffer.from('hello\n'));
run.closeStdin();
for await (const p of pieces) (p.stream === 'stdout' ? stdout : stderr).push(p.data);
const exit = await run.exit;
const again = await attached;
const seen: LifecycleEventInfo[] = await events.waitFor((e) => e.type === 'exited');
events.close();
connection.close();

const last: SessionResponse__Output = { exit };
console.log(
  JSON.stringify({
    sessionId,
    status: status.status,
    stdoutSha: sha256(Buffer.concat(stdout)),
    stderr: Buffer.concat(stderr).toString(),
    exit: last.exit,
    attachStdoutSha: sha256(again.stdout),
    attachStderr: again.stderr.toString(),
    attachExit: again.exitCode,
    events: seen.map((e) => e.type),
    longs: PROTO_LOADER_OPTIONS.longs === String,
  }),
);
process.exitCode = exit;
