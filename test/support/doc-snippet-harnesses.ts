/**
 * The doc snippets that are meant to run (test/client-package.e2e-spec.ts): which document section,
 * in which project kind, and the program that drives a snippet that is a module rather than a script.
 * A harness is compiled with the snippets (strict, against the packed package) and imports the
 * snippet as `./snippet`; it prints one JSON line last, which the test checks.
 */
export interface RunnableSnippet {
  doc: string;
  heading: string;
  kind: 'commonjs' | 'esm';
  /** The driving program's source; none for a script, which runs as it is. */
  harness?: string;
}

/**
 * CLIENTS.md section 1: the module boots from configuration (no EXEC_TLS_CA: plaintext), Jobs.run streams
 * and exits; then a SIGTERM with enableShutdownHooks() closes the application, and the channel with it.
 */
const clientsExecClientModule = `
import 'reflect-metadata';
import { connectivityState } from '@grpc/grpc-js';
import { NestFactory } from '@nestjs/core';
import { GRPCConnectionManager } from '@exec-stream/client';
import { AppModule, Jobs } from './snippet';

void (async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  app.enableShutdownHooks(['SIGTERM'], { useProcessExit: true });
  const channel = app.get(GRPCConnectionManager).getClient().getChannel();
  const code = await app.get(Jobs).run('echo from-jobs; echo to-stderr >&2; exit 5');
  process.once('exit', () => console.log(JSON.stringify({ code, channel: connectivityState[channel.getConnectivityState(false)] })));
  // A signal to ourselves is handled on a later turn: keep the process up until Nest's hook ends it (process.exit).
  setTimeout(() => process.exit(3), 30_000);
  process.kill(process.pid, 'SIGTERM');
})();
`;

/**
 * CLIENTS.md section 2: Runner.run shared by two subscribers is one process; a subscriber that leaves
 * after Ready leaves no client attached (refCount); listSessions, copyTo and copyFrom through the
 * typed service. argv[2]: a tar file to copy in.
 */
const clientsClientsModule = `
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom, lastValueFrom, of, toArray } from 'rxjs';
import type { CopyToRequest } from '@exec-stream/client/wire';
import { AppModule, Runner } from './snippet';

void (async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const runner = app.get(Runner);
  const shared$ = runner.run(['sh', '-c', 'echo shared; exit 4']);
  const [all, last] = await Promise.all([lastValueFrom(shared$.pipe(toArray())), lastValueFrom(shared$)]);
  const ready = all.find((m) => m.msg === 'ready')!.ready!;
  const stdout = Buffer.concat(all.filter((m) => m.msg === 'stdout').map((m) => m.stdout!)).toString();

  const long$ = runner.run(['sh', '-c', 'echo up; sleep 60']);
  const longReady = (await firstValueFrom(long$.pipe(filter((m) => m.msg === 'ready')))).ready!; // unsubscribes: refCount ends the call
  const listed = async () =>
    (await lastValueFrom(runner.exec.listSessions({ container_id: longReady.container_id }))).sessions?.find((s) => s.session_id === longReady.session_id);
  let attached = (await listed())?.clients_attached;
  for (let i = 0; i < 200 && attached !== 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    attached = (await listed())?.clients_attached;
  }
  const copied = await lastValueFrom(
    runner.exec.copyTo(of<CopyToRequest[]>({ header: { container_id: longReady.container_id, path: '/tmp' } }, { tar: readFileSync(process.argv[2]) })),
  );
  const back = await lastValueFrom(runner.exec.copyFrom({ container_id: longReady.container_id, path: '/tmp/doc.txt' }).pipe(toArray()));
  await lastValueFrom(runner.exec.containerSignal({ container_id: longReady.container_id, signal: 'SIGKILL', exec_id: '' }));
  await app.close();
  console.log(
    JSON.stringify({
      sameSession: ready.session_id === all[0].ready?.session_id,
      stdout,
      exit: last.exit,
      lastMsg: last.msg,
      attachedAfterUnsubscribe: attached,
      bytesReceived: copied.bytes_received,
      statName: back[0].stat?.name,
      tarHoldsText: Buffer.concat(back.map((m) => m.tar ?? Buffer.alloc(0))).includes('copied by the doc recipe'),
    }),
  );
})();
`;

export const RUNNABLE_SNIPPETS: RunnableSnippet[] = [
  { doc: 'README.md', heading: 'Use it', kind: 'esm' },
  { doc: 'docs/CLIENTS.md', heading: '1. ExecClientModule (recommended)', kind: 'commonjs', harness: clientsExecClientModule },
  { doc: 'docs/CLIENTS.md', heading: "2. Nest's ClientsModule (Transport.GRPC)", kind: 'commonjs', harness: clientsClientsModule },
];
