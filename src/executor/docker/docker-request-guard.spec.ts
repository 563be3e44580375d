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

  it('leaves ordinary requests alone', async () => {
    await expect(docker.ping()).resolves.toBeTruthy();
  });
});
