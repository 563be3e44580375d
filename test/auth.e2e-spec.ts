import { Metadata, status } from '@grpc/grpc-js';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { grpcError } from './support/helpers';

const TOKEN = 'a-test-token-of-32-characters-xx';

describe('with EXEC_AUTH_TOKEN set', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN })));
  afterAll(() => server?.close());

  const clientWith = (token?: string, authScheme?: 'bearer' | 'basic') => {
    const c = new GRPCConnectionManager({ address: server.address, token, authScheme });
    return { c, exec: new ExecClient(c) };
  };

  it('accepts Bearer <token>', async () => {
    const { c, exec } = clientWith(TOKEN);
    expect((await exec.run(BASE_IMAGE, { command: ['echo', 'ok'] }).collect()).stdout.toString()).toBe('ok\n');
    c.close();
  });

  it("accepts the reference client's Basic base64(':' + token)", async () => {
    const { c, exec } = clientWith(TOKEN, 'basic');
    expect(await exec.run(BASE_IMAGE, { command: ['true'] }).wait()).toBe(0);
    c.close();
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'b-test-token-of-32-characters-xx'],
    ['a prefix of the token', TOKEN.slice(0, 20)],
  ])('refuses %s with UNAUTHENTICATED', async (_n, token) => {
    const { c, exec } = clientWith(token);
    const err = await grpcError(exec.run(BASE_IMAGE, { command: ['true'] }).wait());
    expect(err.code).toBe(status.UNAUTHENTICATED);
    c.close();
  });

  it('refuses unary RPCs without the token too', async () => {
    const { c } = clientWith(undefined);
    const client = c.getClient();
    const err = await new Promise<{ code: number }>((resolve) =>
      (client.ContainerStatus as (req: object, md: Metadata, cb: (e: { code: number }) => void) => void).call(
        client,
        { container_id: 'x' },
        new Metadata(),
        (e) => resolve(e),
      ),
    );
    expect(err.code).toBe(status.UNAUTHENTICATED);
    c.close();
  });
});

describe('the authorization header takes exactly the two documented forms', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer({ EXEC_AUTH_TOKEN: TOKEN })));
  afterAll(() => server?.close());

  const b64 = (s: string) => Buffer.from(s).toString('base64');
  /** ContainerStatus for a container nobody has, with this authorization header: its status code. */
  const statusWith = (authorization: string) => {
    const md = new Metadata();
    md.set('authorization', authorization);
    const client = server.connection.getClient();
    return new Promise<number>((resolve) =>
      (client.ContainerStatus as (req: object, md: Metadata, cb: (e: { code: number } | null) => void) => void).call(
        client,
        { container_id: 'deadbeefdeadbeef' },
        md,
        (e) => resolve(e?.code ?? status.OK),
      ),
    );
  };

  it.each([
    ['Bearer <token>', `Bearer ${TOKEN}`],
    ['Basic base64(":" + token)', `Basic ${b64(':' + TOKEN)}`],
  ])('accepts %s (the call goes on to NOT_FOUND)', async (_n, header) => {
    expect(await statusWith(header)).toBe(status.NOT_FOUND);
  });

  it.each([
    ['Bearer <token> <anything>', `Bearer ${TOKEN} anything`],
    ['Basic with a user name', `Basic ${b64('admin:' + TOKEN)}`],
    ['Basic with the token as user name', `Basic ${b64(TOKEN + ':' + TOKEN)}`],
    ['Basic base64(token) with no colon', `Basic ${b64(TOKEN)}`],
  ])('refuses %s with UNAUTHENTICATED', async (_n, header) => {
    expect(await statusWith(header)).toBe(status.UNAUTHENTICATED);
  });
});

describe('without EXEC_AUTH_TOKEN', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server?.close());

  it('serves calls with no credentials, on loopback', async () => {
    expect(server.address).toMatch(/^127\./);
    expect(await server.client.run(BASE_IMAGE, { command: ['true'] }).wait()).toBe(0);
  });
});
