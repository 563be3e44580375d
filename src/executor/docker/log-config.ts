import type Docker from 'dockerode';
import type { ExecConfig } from '../../common/config/exec-config';

/**
 * The log driver of containers this service creates (EXEC_CONTAINER_LOG_DRIVER) with its options
 * (EXEC_CONTAINER_LOG_OPTS, `key=value,…`; validated in ExecConfig). `none` takes no options.
 */
export function logConfig(config: ExecConfig): Docker.HostConfig['LogConfig'] {
  const type = config.EXEC_CONTAINER_LOG_DRIVER;
  const options: Record<string, string> = {};
  if (type !== 'none' && config.EXEC_CONTAINER_LOG_OPTS) {
    for (const pair of config.EXEC_CONTAINER_LOG_OPTS.split(',')) {
      const eq = pair.indexOf('=');
      options[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return { Type: type, Config: options };
}
