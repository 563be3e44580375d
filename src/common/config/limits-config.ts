/** Docker's default capability set (moby's oci/caps/defaults.go): a container never gets more than these. */
export const DOCKER_DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
] as const;

/** The settings limitsProblems checks (ExecConfig has them; named here so that this file does not import it). */
export interface LimitSettings {
  EXEC_DEFAULT_MEMORY_BYTES: number;
  EXEC_MAX_MEMORY_BYTES: number;
  EXEC_DEFAULT_CPUS: number;
  EXEC_MAX_CPUS: number;
  EXEC_DEFAULT_PIDS_LIMIT: number;
  EXEC_MAX_PIDS_LIMIT: number;
  EXEC_CAPABILITIES: string;
}

/** Docker refuses a memory limit below 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

/** EXEC_CAPABILITIES as a list ('' = none). */
export function capabilityList(value: string): string[] {
  return value
    .split(',')
    .map((c) => c.trim().toUpperCase().replace(/^CAP_/, ''))
    .filter(Boolean);
}

/**
 * What loadConfig adds about the container limits: each default within its maximum (0 = none), a
 * default memory limit Docker accepts, and EXEC_CAPABILITIES within Docker's default set.
 */
export function limitsProblems(c: LimitSettings): string[] {
  const problems: string[] = [];
  const pairs: [string, number, string, number][] = [
    ['EXEC_DEFAULT_MEMORY_BYTES', c.EXEC_DEFAULT_MEMORY_BYTES, 'EXEC_MAX_MEMORY_BYTES', c.EXEC_MAX_MEMORY_BYTES],
    ['EXEC_DEFAULT_CPUS', c.EXEC_DEFAULT_CPUS, 'EXEC_MAX_CPUS', c.EXEC_MAX_CPUS],
    ['EXEC_DEFAULT_PIDS_LIMIT', c.EXEC_DEFAULT_PIDS_LIMIT, 'EXEC_MAX_PIDS_LIMIT', c.EXEC_MAX_PIDS_LIMIT],
  ];
  for (const [dName, d, mName, m] of pairs) {
    if (m > 0 && (d === 0 || d > m))
      problems.push(`${dName}=${d}: must be above 0 and at most ${mName} (${m}): with a maximum, the default cannot be unlimited`);
  }
  if (c.EXEC_DEFAULT_MEMORY_BYTES > 0 && c.EXEC_DEFAULT_MEMORY_BYTES < MIN_MEMORY_BYTES) {
    problems.push(`EXEC_DEFAULT_MEMORY_BYTES=${c.EXEC_DEFAULT_MEMORY_BYTES}: Docker needs at least ${MIN_MEMORY_BYTES} (6 MiB), or 0 for no limit`);
  }
  const unknown = capabilityList(c.EXEC_CAPABILITIES).filter((cap) => !(DOCKER_DEFAULT_CAPABILITIES as readonly string[]).includes(cap));
  if (unknown.length) {
    problems.push(
      `EXEC_CAPABILITIES=${JSON.stringify(c.EXEC_CAPABILITIES)}: ${unknown.join(', ')} not in Docker's default set (${DOCKER_DEFAULT_CAPABILITIES.join(', ')})`,
    );
  }
  return problems;
}
