/** host:port, the host a name, IPv4 or [IPv6], as EXEC_LISTEN and EXEC_METRICS_LISTEN take it. */
export const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** A listen address split: the host (an IPv6 one without its brackets) and the port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `value` (validated against HOST_PORT) as host and port. */
export function splitHostPort(value: string): HostPort {
  const colon = value.lastIndexOf(':');
  return { host: value.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(value.slice(colon + 1)) };
}
