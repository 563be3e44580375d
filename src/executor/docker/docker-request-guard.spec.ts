import Docker from 'dockerode';
import http from 'node:http';
import { dockerOptionsFromHost } from './docker-host';
import { fromDockerError } from './docker-errors';
import { guardDockerRequests } from './docker-request-guard';

// Against the real Docker engine: the redirect is Docker's own answer to an unclean path.
describe('guardDockerRequests', () => {
  const docker = guardDockerRequests(new Docker(dockerOptionsFromHost(process.env.DOCKER_HOST)));
  afterEach(() => jest.restoreAllMocks());

  it.each(['..', '.', 'a/../b', '%2e%2e/x'])('a request Docker redirects (container %j) fails in its own callback and is not followed', async (id) => {
    const requests = jest.spyOn(http, 'request');
    const err = await docker
      .getContainer(id)
      .inspect()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ statusCode: 301 });
    // docker-modem follows a redirect synchronously, before the first request's answer is handled:
    // one request made means none followed (a followed one has no 'error' listener).
    expect(requests).toHaveBeenCalledTimes(1);
    expect(fromDockerError(err, `container ${id}`)).toMatchObject({ kind: 'invalid' });
  });

  it("leaves ordinary requests alone: one request each, and Docker's own answer or error, as an unguarded client gets them", async () => {
    const plain = new Docker(dockerOptionsFromHost(process.env.DOCKER_HOST));
    const requests = jest.spyOn(http, 'request');
    const settle = (p: Promise<unknown>) =>
      p.then(
        (value) => ({ value }),
        (e: { statusCode?: number; message?: string }) => ({ statusCode: e.statusCode, message: e.message }),
      );
    // A GET with an answer, a GET of something Docker does not have (its 404, not a redirect), a filtered list.
    const asks = [
      (d: Docker) => d.version().then((v) => v.ApiVersion),
      (d: Docker) => d.getContainer('exec-stream-no-such-container').inspect(),
      (d: Docker) => d.listImages({ filters: JSON.stringify({ reference: ['exec-stream/busybox'] }) }).then((l) => l.map((i) => i.Id).sort()),
    ];
    for (const ask of asks) {
      requests.mockClear();
      const guarded = await settle(ask(docker));
      expect(requests).toHaveBeenCalledTimes(1);
      expect(guarded).toEqual(await settle(ask(plain)));
    }
    const missing = await settle(asks[1](docker));
    expect(missing).toMatchObject({ statusCode: 404, message: expect.stringContaining('No such container') });
    expect(await settle(asks[2](docker))).toEqual({ value: expect.arrayContaining([expect.stringMatching(/^sha256:/)]) });
  });
});
