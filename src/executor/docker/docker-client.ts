import Docker from 'dockerode';
import type { Provider } from '@nestjs/common';
import type { ExecConfig } from '../../common/config/exec-config';
import { BACKEND_REQUEST_OBSERVER, DOCKER_CLIENT, EXEC_CONFIG } from '../../common/tokens';
import type { BackendRequestObserver } from '../backend-request-observer';
import { observeDockerRequests } from './docker-request-metrics';
import { dockerOptionsFromHost } from './docker-host';
import { guardDockerRequests } from './docker-request-guard';

/** The one dockerode client of the process (runtime, control and events share its endpoint setup). */
export const dockerClientProvider: Provider = {
  provide: DOCKER_CLIENT,
  useFactory: (config: ExecConfig, observer?: BackendRequestObserver | null) => {
    const docker = guardDockerRequests(new Docker(dockerOptionsFromHost(config.DOCKER_HOST, config)));
    // Every request counted by operation when metrics are on (docs/METRICS.md).
    return observer ? observeDockerRequests(docker, observer) : docker;
  },
  inject: [EXEC_CONFIG, { token: BACKEND_REQUEST_OBSERVER, optional: true }],
};
