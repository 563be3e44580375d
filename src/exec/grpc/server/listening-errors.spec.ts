import { credentials, makeGenericClientConstructor, Server, ServerCredentials, status } from '@grpc/grpc-js';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { ServerGrpc } from '@nestjs/microservices';
import pino from 'pino';
import { loadConfig } from '../../../common/config/exec-config';
import type { Logger } from '../../../common/logger';
import { serviceContext } from '../../../service-context';
import { grpcOptions } from './grpc-options';
import { logListeningErrors } from './listening-errors';

const acceptError = () => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
/** grpc-js's own HTTP/2 servers (private): where a failed accept is emitted. */
const http2Servers = (server: Server) => [...(server as unknown as { http2Servers: Map<NetServer, unknown> }).http2Servers.keys()];
const bind = (server: Server, address = '127.0.0.1:0') =>
  new Promise<number>((resolve, reject) => server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));

/** A call to a method the server does not have: UNIMPLEMENTED proves it accepted and answered. */
function answers(port: number): Promise<number | undefined> {
  const Client = makeGenericClientConstructor({}, 'Nothing');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      '/nothing.Nothing/Call',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err) => {
        client.close();
        resolve(err?.code);
      },
    ),
  );
}

describe('logListeningErrors', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));
  const newServer = () => {
    const s = new Server();
    servers.push(s);
    return s;
  };

  it('without it, grpc-js leaves a listening socket error unheard: it would be thrown (the end of the process)', async () => {
    const server = newServer();
    await bind(server);
    expect(() => http2Servers(server)[0].emit('error', acceptError())).toThrow(/EMFILE/);
  });

  it.each([
    ['installed after the bind, as Nest hands the server over (onLoadPackageDefinition)', true],
    ['installed before a bind', false],
  ])('an accept error once listening is logged, not thrown, and the server goes on answering (%s)', async (_, afterBind) => {
    const server = newServer();
    const errors: unknown[] = [];
    const log = { error: (...args: unknown[]) => errors.push(args) } as unknown as Logger;
    let port = afterBind ? await bind(server) : 0;
    expect(logListeningErrors(server, log)).toBe(true);
    if (!afterBind) port = await bind(server);
    expect(() => http2Servers(server)[0].emit('error', acceptError())).not.toThrow();
    expect(errors).toEqual([[{ err: 'accept EMFILE', code: 'EMFILE' }, 'the gRPC listening socket reported an error: it goes on listening']]);
    expect(await answers(port)).toBe(status.UNIMPLEMENTED);
  });

  it('a port already taken still fails the bind, and is not logged as a listening error', async () => {
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined); // grpc-js logs the failed bind itself
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const server = newServer();
      const errors: unknown[] = [];
      logListeningErrors(server, { error: (...args: unknown[]) => errors.push(args) } as unknown as Logger);
      await expect(bind(server, `127.0.0.1:${(taken.address() as AddressInfo).port}`)).rejects.toThrow(/No address added|EADDRINUSE/);
      expect(errors).toEqual([]);
    } finally {
      taken.close();
      quiet.mockRestore();
    }
  });
});

describe("the service's gRPC options, through Nest's own gRPC server", () => {
  it('every listening socket of the served Exec gets the listener: an accept error is logged, not thrown', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const context = serviceContext(loadConfig({ EXEC_LISTEN: '127.0.0.1:0' }), logger);
    const nest = new ServerGrpc(grpcOptions(context).options);
    let failed: unknown;
    await nest.listen((err?: unknown) => (failed = err)); // resolves once bound and started; errors go to the callback
    expect(failed).toBeUndefined();
    try {
      const bound = http2Servers((nest as unknown as { grpcClient: Server }).grpcClient);
      expect(bound.length).toBeGreaterThan(0);
      for (const h of bound) expect(() => h.emit('error', acceptError())).not.toThrow();
      expect(lines.filter((l) => l.includes('the gRPC listening socket reported an error'))).toHaveLength(bound.length);
    } finally {
      await nest.close();
    }
  });
});
