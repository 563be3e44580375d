import { splitHostPort, type HostPort } from './host-port';
import { capabilityList } from './limits-config';
import { parseLogOptions } from './log-options';
import { parsePeerList } from './peer-list';

/** The settings that hold more than one value, as loadConfig parses them once, after validating them. */
export interface ParsedSettings {
  /** EXEC_METRICS_LISTEN; undefined when unset (metrics off). */
  readonly metricsListen?: HostPort;
  /** EXEC_CAPABILITIES as Docker's CapAdd list. */
  readonly capabilities: readonly string[];
  /** EXEC_CONTAINER_LOG_OPTS as Docker's LogConfig.Config: none for driver `none`, which ignores them. */
  readonly logOptions: Readonly<Record<string, string>>;
  /** EXEC_PEERS as replica id → host:port, this replica's own entry included. */
  readonly peers: ReadonlyMap<string, string>;
}

/** The strings ParsedSettings is made from (ExecConfig has them; named here so that this file does not import it). */
export interface SettingStrings {
  EXEC_METRICS_LISTEN?: string;
  EXEC_CAPABILITIES: string;
  EXEC_CONTAINER_LOG_DRIVER: string;
  EXEC_CONTAINER_LOG_OPTS: string;
  EXEC_PEERS: string;
}

/** `c`'s settings parsed; each must have passed its check (a bad one throws). */
export function parseSettings(c: SettingStrings): ParsedSettings {
  return {
    metricsListen: c.EXEC_METRICS_LISTEN ? splitHostPort(c.EXEC_METRICS_LISTEN) : undefined,
    capabilities: Object.freeze(capabilityList(c.EXEC_CAPABILITIES)),
    logOptions: Object.freeze(c.EXEC_CONTAINER_LOG_DRIVER === 'none' ? {} : parseLogOptions(c.EXEC_CONTAINER_LOG_OPTS)),
    peers: parsePeerList(c.EXEC_PEERS),
  };
}
