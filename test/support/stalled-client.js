// A client in a process of its own (so that its buffers are not counted as the server's), using the
// built client (dist/, see buildService): starts a run, prints {"ready":…,"first":{stream,bytes}}
// after reading one piece, stalls until a line arrives on stdin, then reads to the end and prints
// {"sha":…,"bytes":…,"stderr":…,"exit":…} (or, when the call fails after Ready, {"sha","bytes","stderr","error"}
// of what it read, and exit code 1). Usage: node stalled-client.js ADDRESS IMAGE SCRIPT [WINDOW]
// WINDOW: the HTTP/2 flow-control window in bytes (default: the client's 4 MiB; 65535 is grpc-js' own
// default, as a plain grpc-js or Nest client has).
'use strict';
const { createHash } = require('node:crypto');
const { ExecClient, GRPCConnectionManager } = require('@exec-stream/client');

const h = createHash('sha256');
let bytes = 0;
let stderr = '';
let ready;

async function main() {
  const [address, image, script, window] = process.argv.slice(2);
  const channelOptions = window ? { 'grpc-node.flow_control_window': Number(window) } : undefined;
  const connection = new GRPCConnectionManager({ address, channelOptions });
  const session = new ExecClient(connection).run(image, { command: ['sh', '-c', script] });
  ready = await session.ready;
  const out = session.output();
  const take = (p) => {
    if (p.stream === 'stdout') {
      h.update(p.data);
      bytes += p.data.length;
    } else stderr += p.data.toString();
  };
  const first = (await out.next()).value;
  take(first);
  process.stdout.write(JSON.stringify({ ready, first: { stream: first.stream, bytes: first.data.length } }) + '\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  for await (const p of out) take(p);
  process.stdout.write(JSON.stringify({ sha: h.digest('hex'), bytes, stderr, exit: await session.exit }) + '\n');
  connection.close();
  process.stdin.destroy();
}

main().catch((err) => {
  if (ready) process.stdout.write(JSON.stringify({ sha: h.digest('hex'), bytes, stderr, error: err.message }) + '\n');
  process.stderr.write(`stalled-client: ${err.message}\n`);
  process.exit(1);
});
