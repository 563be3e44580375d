import type Docker from 'dockerode';
import type { BackendRequestObserver } from '../backend-request-observer';
import { wrapBuildRequest } from './docker-request-guard';

/**
 * Reports every request of this dockerode client to `observer` (runtime, control, exec signalling,
 * events, recovery logs: they all pass through the modem's buildRequest) with its operation, the time
 * to its answer and whether it failed. A stream's time is to its headers; its body is not timed.
 */
export function observeDockerRequests(docker: Docker, observer: BackendRequestObserver): Docker {
  return wrapBuildRequest(docker, (buildRequest) => (options, context, data, callback) => {
    const operation = dockerOperation(context?.method ?? '', context?.path ?? '');
    const started = process.hrtime.bigint();
    let reported = false;
    buildRequest(options, context, data, (err, result) => {
      if (!reported) {
        reported = true;
        try {
          observer.backendRequest(operation, Number(process.hrtime.bigint() - started) / 1e9, !!err);
        } catch {
          /* counting never fails a request */
        }
      }
      callback(err, result);
    });
  });
}

const TOP_LEVEL = new Set(['json', 'create', 'prune', 'load', 'search', 'get']);

/**
 * "METHOD /path" of a Docker API request with the API version, the query and every id or name
 * replaced (`/containers/{id}/start`, `/images/{name}/json`): a bounded label. A path of another
 * shape (ids with `/` or `..` in them) is `METHOD other`.
 */
export function dockerOperation(method: string, rawPath: string): string {
  const path = rawPath.split('?')[0].replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
  const parts = path.split('/').slice(1);
  const [resource, ...rest] = parts;
  let shape: string[];
  if (resource === 'images' && rest.length && !(rest.length === 1 && TOP_LEVEL.has(rest[0]))) {
    // Image names hold '/' (exec-stream/busybox:latest): the name is all but a known last segment.
    const last = rest[rest.length - 1];
    shape = ['images', '{name}', ...(rest.length > 1 && ['json', 'history', 'push', 'tag', 'get'].includes(last) ? [last] : [])];
  } else if (['containers', 'exec', 'networks', 'volumes'].includes(resource) && rest.length && !(rest.length === 1 && TOP_LEVEL.has(rest[0]))) {
    shape = [resource, '{id}', ...rest.slice(1)];
  } else {
    shape = parts;
  }
  const label = `/${shape.join('/')}`;
  return `${method.toUpperCase()} ${/^(\/([a-z_]+|\{id\}|\{name\}))+$/.test(label) && shape.length <= 4 ? label : 'other'}`;
}
