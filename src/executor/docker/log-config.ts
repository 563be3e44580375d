import type Docker from 'dockerode';
import type { ExecConfig } from '../../common/config/exec-config';
import { parseLogOptions } from '../../common/config/log-options';
import { perConfig } from '../../common/per-config';

/**
 * The log driver of containers this service creates (EXEC_CONTAINER_LOG_DRIVER) with its options
 * (EXEC_CONTAINER_LOG_OPTS, checked at start), parsed once per configuration: every create is given the
 * same object, which nothing changes. `none` takes no options.
 */
export const logConfig = perConfig((config: ExecConfig): Docker.HostConfig['LogConfig'] => {
  const type = config.EXEC_CONTAINER_LOG_DRIVER;
  return { Type: type, Config: type === 'none' ? {} : parseLogOptions(config.EXEC_CONTAINER_LOG_OPTS) };
});
