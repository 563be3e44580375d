import Docker from 'dockerode';
import type { Provider } from '@nestjs/common';
import type { ExecConfig } from '../../common/config/exec-config';
import { DOCKER_CLIENT, EXEC_CONFIG } from '../../common/tokens';
import { dockerOptionsFromHost } from './docker-host';
import { guardDockerRequests } from './docker-request-guard';

/** The one dockerode client of the process (runtime, control and events share its endpoint setup). */
export const dockerClientProvider: Provider = {
  provide: DOCKER_CLIENT,
  useFactory: (config: ExecConfig) => guardDockerRequests(new Docker(dockerOptionsFromHost(config.DOCKER_HOST))),
  inject: [EXEC_CONFIG],
};
