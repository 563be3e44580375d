import type Docker from 'dockerode';
import { dockerUsesTls, readDockerTls, type DockerHostSettings } from '../../common/config/docker-tls';

/**
 * DOCKER_HOST (unix:///path, tcp://host:port, http(s)://…) → dockerode options; unset = its default.
 * A TLS engine (DOCKER_TLS_VERIFY=1, https://, or port 2376: docker-tls.ts) is reached over https,
 * verified against DOCKER_CERT_PATH/ca.pem, with DOCKER_CERT_PATH/cert.pem + key.pem as our identity.
 * ssh:// is refused by the config check before this is reached.
 */
export function dockerOptionsFromHost(host: string | undefined, settings: Omit<DockerHostSettings, 'DOCKER_HOST'> = {}): Docker.DockerOptions {
  if (!host) return {};
  const url = new URL(host);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'npipe:') return { socketPath: host.slice('npipe://'.length) };
  if (url.protocol === 'ssh:') throw new Error(`DOCKER_HOST=${host}: ssh:// is not supported (use tcp:// with TLS)`);
  const tls = dockerUsesTls({ ...settings, DOCKER_HOST: host });
  const options: Docker.DockerOptions = {
    protocol: tls ? 'https' : 'http',
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || (tls ? 2376 : 2375),
  };
  return tls ? { ...options, ...readDockerTls(settings) } : options;
}
