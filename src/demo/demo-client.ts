import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';

/**
 * The live demo: start a command in a new container, print its output as it is produced (stdout and
 * stderr marked), then its exit code; then attach a second client to the finished session and show
 * that it gets the same output and exit code. The demo's own exit code is the command's.
 */
async function main(): Promise<void> {
  const address = process.env.EXEC_ADDRESS ?? process.env.EXEC_LISTEN ?? '127.0.0.1:50051';
  const image = process.env.EXEC_BASE_IMAGE ?? 'exec-stream/busybox:latest';
  const script =
    process.argv.slice(2).join(' ') || 'for i in 1 2 3 4 5; do echo "line $i from $(hostname)"; [ $i = 3 ] && echo "a warning on stderr" >&2; sleep 0.4; done';
  const connection = new GRPCConnectionManager({ address, token: process.env.EXEC_AUTH_TOKEN });
  const client = new ExecClient(connection);

  const started = Date.now();
  const session = client.run(image, { command: ['sh', '-c', script] });
  const ready = await session.ready;
  say(`ready: session ${ready.sessionId}, container ${ready.containerId.slice(0, 12)}`);
  for await (const piece of session.output()) {
    const at = ((Date.now() - started) / 1000).toFixed(2).padStart(6);
    for (const line of piece.data.toString().split(/(?<=\n)/)) if (line) process.stdout.write(`${at}s ${piece.stream}| ${line}`);
  }
  const code = await session.exit;
  say(`exit code ${code}`);

  const late = await client.attach({ sessionId: ready.sessionId }).collect();
  say(`a second client attached after the exit got ${late.stdout.length} bytes of stdout, ${late.stderr.length} of stderr, exit ${late.exitCode}`);
  connection.close();
  // The demo ends as the command did, like `docker run`.
  process.exitCode = code;
}

function say(text: string): void {
  process.stdout.write(`[demo] ${text}\n`);
}

main().catch((err: { code?: number; details?: string; message?: string }) => {
  process.stderr.write(`[demo] failed: ${err.code !== undefined ? `gRPC ${err.code} ` : ''}${err.details ?? err.message}\n`);
  process.exit(1);
});
