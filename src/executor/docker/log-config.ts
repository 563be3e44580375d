import type Docker from 'dockerode';
import type { ExecConfig } from '../../common/config/exec-config';

/**
 * The log driver of containers this service creates (EXEC_CONTAINER_LOG_DRIVER) with its options
 * (EXEC_CONTAINER_LOG_OPTS, parsed at start): every create is given the same options object, which
 * nothing changes. `none` takes no options.
 */
export function logConfig(config: ExecConfig): NonNullable<Docker.HostConfig['LogConfig']> {
  return { Type: config.EXEC_CONTAINER_LOG_DRIVER, Config: config.logOptions };
}
