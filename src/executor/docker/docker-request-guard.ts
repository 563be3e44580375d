import type Docker from 'dockerode';

type Callback = (err: unknown, result?: unknown) => void;

interface ModemInternals {
  buildRequest(options: Record<string, unknown>, context: unknown, data: unknown, callback: Callback): void;
}

/**
 * Makes every request of this dockerode client end in its own callback, never in an unhandled 'error'
 * event: docker-modem's HTTP layer follows redirects with a fresh request that has no 'error' listener
 * (Docker redirects a path with `.` / `..` / `//` segments, to the host named by its next segment, whose
 * DNS failure then killed the process), so here it follows none and the redirect is the request's error
 * (statusCode 301, a client mistake for fromDockerError).
 */
export function guardDockerRequests(docker: Docker): Docker {
  const modem = docker.modem as unknown as ModemInternals;
  const buildRequest = modem.buildRequest.bind(modem);
  modem.buildRequest = (options, context, data, callback) =>
    buildRequest({ ...options, maxRedirects: 0 }, context, data, (err, result) =>
      callback(err instanceof Error && err.message.startsWith('Max redirects exceeded') ? redirected(options) : err, result),
    );
  return docker;
}

function redirected(options: Record<string, unknown>): Error {
  const path = (typeof options.path === 'string' ? options.path : '').slice(0, 200);
  const method = typeof options.method === 'string' ? options.method : '';
  return Object.assign(new Error(`Docker redirected ${method} ${path}: the path is not clean ("." or ".." segments)`), { statusCode: 301 });
}
