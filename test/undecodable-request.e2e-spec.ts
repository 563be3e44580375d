/**
 * Request bytes that are not the method's protobuf message are the client's mistake: INVALID_ARGUMENT
 * naming the method, before any handler runs (grpc-js on its own answers INTERNAL), on unary and
 * streaming methods alike, and the service goes on serving.
 */
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';

let server: TestServer;
let raw: Client;
beforeAll(async () => {
  server = await startTestServer();
  raw = new Client(server.address, credentials.createInsecure());
});
afterAll(async () => {
  raw?.close();
  await server?.close();
});

const bytes = (b: Buffer) => b;
// Field 1 with wire type 7 (invalid), then a varint that never ends: no protobuf decoder accepts these.
const GARBAGE = [
  Buffer.from([0x0f, 0xff]),
  Buffer.from([0x0a, 0xff, 0xff, 0xff]),
  Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
];

function unary(method: string, body: Buffer): Promise<ServiceError> {
  return new Promise((resolve, reject) =>
    raw.makeUnaryRequest(`/dagger.exec.Exec/${method}`, bytes, bytes, body, new Metadata(), (err) =>
      err ? resolve(err) : reject(new Error(`${method} accepted ${body.toString('hex')}`)),
    ),
  );
}

it.each(['ContainerStatus', 'ContainerPause', 'ContainerResume', 'ContainerSignal'])(
  '%s with undecodable bytes → INVALID_ARGUMENT naming it',
  async (method) => {
    for (const body of GARBAGE) {
      const err = await unary(method, body);
      expect({ code: err.code, details: err.details }).toEqual({
        code: status.INVALID_ARGUMENT,
        details: expect.stringContaining(`the ${method} request is not a valid protobuf message`),
      });
    }
  },
);

it('a Session message with undecodable bytes → INVALID_ARGUMENT; the service then runs sessions', async () => {
  for (const body of GARBAGE) {
    const err = await new Promise<ServiceError>((resolve) => {
      const call = raw.makeBidiStreamRequest('/dagger.exec.Exec/Session', bytes, bytes, new Metadata());
      call.on('data', () => undefined);
      call.on('error', resolve);
      call.write(body);
    });
    expect({ code: err.code, details: err.details }).toEqual({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('the Session request is not a valid protobuf message'),
    });
  }
  const r = await server.client.run(BASE_IMAGE, { command: ['echo', 'still serving'] }).collect();
  expect(r).toEqual({ stdout: Buffer.from('still serving\n'), stderr: Buffer.alloc(0), exitCode: 0 });
});
