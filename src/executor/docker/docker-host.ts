import type Docker from 'dockerode';

/** DOCKER_HOST (unix:///path, tcp://host:port, http(s)://…) → dockerode options; unset = its default. */
export function dockerOptionsFromHost(host: string | undefined): Docker.DockerOptions {
  if (!host) return {};
  const url = new URL(host);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'npipe:') return { socketPath: host.slice('npipe://'.length) };
  return {
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    host: url.hostname,
    port: Number(url.port) || (url.protocol === 'https:' ? 2376 : 2375),
  };
}
