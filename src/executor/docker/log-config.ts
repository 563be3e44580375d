import type Docker from 'dockerode';
import type { ExecConfig } from '../../common/config/exec-config';
import { parseLogOptions } from '../../common/config/log-options';

/**
 * The log driver of containers this service creates (EXEC_CONTAINER_LOG_DRIVER) with its options
 * (EXEC_CONTAINER_LOG_OPTS, checked at start). `none` takes no options.
 */
export function logConfig(config: ExecConfig): Docker.HostConfig['LogConfig'] {
  const type = config.EXEC_CONTAINER_LOG_DRIVER;
  return { Type: type, Config: type === 'none' ? {} : parseLogOptions(config.EXEC_CONTAINER_LOG_OPTS) };
}
