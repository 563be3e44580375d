import type Docker from 'dockerode';

type Callback = (err: unknown, result?: unknown) => void;

/** docker-modem's buildRequest, which every request of a dockerode client passes through. */
export type BuildRequest = (options: Record<string, unknown>, context: { method?: string; path?: string }, data: unknown, callback: Callback) => void;

/** Replaces this client's buildRequest with `wrap` of the one it had. */
export function wrapBuildRequest(docker: Docker, wrap: (buildRequest: BuildRequest) => BuildRequest): Docker {
  const modem = docker.modem as unknown as { buildRequest: BuildRequest };
  modem.buildRequest = wrap(modem.buildRequest.bind(modem));
  return docker;
}

/**
 * Makes every request of this dockerode client end in its own callback, never in an unhandled 'error'
 * event: docker-modem's HTTP layer follows redirects with a fresh request that has no 'error' listener
 * (Docker redirects a path with `.` / `..` / `//` segments, to the host named by its next segment, whose
 * DNS failure then killed the process), so here it follows none and the redirect is the request's error
 * (statusCode 301, a client mistake for fromDockerError).
 */
export function guardDockerRequests(docker: Docker): Docker {
  return wrapBuildRequest(
    docker,
    (buildRequest) => (options, context, data, callback) =>
      buildRequest({ ...options, maxRedirects: 0 }, context, data, (err, result) =>
        callback(err instanceof Error && err.message.startsWith('Max redirects exceeded') ? redirected(options) : err, result),
      ),
  );
}

function redirected(options: Record<string, unknown>): Error {
  const path = (typeof options.path === 'string' ? options.path : '').slice(0, 200);
  const method = typeof options.method === 'string' ? options.method : '';
  return Object.assign(new Error(`Docker redirected ${method} ${path}: the path is not clean ("." or ".." segments)`), { statusCode: 301 });
}
