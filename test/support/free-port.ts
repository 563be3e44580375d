import { createServer } from 'node:net';

/**
 * Ports handed out here lie below the kernel's ephemeral range (32768–60999 on these machines), in a block
 * of their own per jest worker: a service a test stops and starts again on its port (a restart, a rolling
 * deploy) must find it free, and a port from the ephemeral range can meanwhile be taken by the OS for any
 * connection, or handed by listen(0) to another worker's service (a restart in recovery.e2e-spec.ts once
 * failed so: "No address added"). Within a file ports are not handed out twice; files of one worker run
 * one after another.
 */
const FIRST_PORT = 20_000;
/** Twelve blocks of 1,000 (20000–31999): distinct for up to twelve workers (`--maxWorkers=12`); a file takes tens. */
const BLOCK = 1_000;
const WORKERS = 12;
let next: number | undefined;

/** A TCP port on 127.0.0.1 that is free now and that no other jest worker is handed. */
export async function freePort(): Promise<number> {
  const worker = Math.max(1, Number(process.env.JEST_WORKER_ID) || 1);
  const base = FIRST_PORT + ((worker - 1) % WORKERS) * BLOCK;
  // Each file starts at its own place in the block (a previous file's ports may still be closing).
  next ??= Math.floor(Math.random() * BLOCK);
  for (let tried = 0; tried < BLOCK; tried++) {
    const port = base + (next++ % BLOCK);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${base}–${base + BLOCK - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
