import { loadConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { resolveContainerLimits, resolveTimeouts } from './process-limits';

const MiB = 1024 * 1024;
const config = loadConfig({
  EXEC_DEFAULT_MEMORY_BYTES: String(256 * MiB),
  EXEC_MAX_MEMORY_BYTES: String(1024 * MiB),
  EXEC_DEFAULT_CPUS: '0.5',
  EXEC_MAX_CPUS: '2',
  EXEC_MAX_TIMEOUT_MS: '60000',
  EXEC_KILL_GRACE_MS: '3000',
});

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).kind).toBe('invalid');
    return (err as ExecError).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('resolveContainerLimits', () => {
  it('takes the defaults for 0 or unset, the request otherwise', () => {
    expect(resolveContainerLimits({}, config)).toEqual({ memoryBytes: 256 * MiB, nanoCpus: 500_000_000, pidsLimit: 1024, readOnlyRootfs: false });
    expect(resolveContainerLimits({ memoryBytes: 64 * MiB, cpus: 1.25, pidsLimit: 10, readOnlyRootfs: true }, config)).toEqual({
      memoryBytes: 64 * MiB,
      nanoCpus: 1_250_000_000,
      pidsLimit: 10,
      readOnlyRootfs: true,
    });
  });

  it('refuses a request above a maximum, naming the field and the maximum', () => {
    expect(invalid(() => resolveContainerLimits({ memoryBytes: 2048 * MiB }, config))).toMatch(/memory_bytes .* maximum 1073741824 \(EXEC_MAX_MEMORY_BYTES\)/);
    expect(invalid(() => resolveContainerLimits({ cpus: 3 }, config))).toMatch(/cpus 3 .* maximum 2 \(EXEC_MAX_CPUS\)/);
    expect(invalid(() => resolveContainerLimits({ pidsLimit: 40_000 }, config))).toMatch(/pids_limit .* \(EXEC_MAX_PIDS_LIMIT\)/);
    expect(invalid(() => resolveContainerLimits({ memoryBytes: 1024 }, config))).toMatch(/below Docker's minimum/);
  });
});

describe('resolveTimeouts', () => {
  it('applies EXEC_KILL_GRACE_MS for 0 and refuses timeouts above EXEC_MAX_TIMEOUT_MS', () => {
    expect(resolveTimeouts({ timeoutMs: 5000 }, config)).toEqual({ timeoutMs: 5000, idleTimeoutMs: 0, killGraceMs: 3000 });
    expect(resolveTimeouts({ idleTimeoutMs: 100, killGraceMs: 50 }, config)).toEqual({ timeoutMs: 0, idleTimeoutMs: 100, killGraceMs: 50 });
    expect(invalid(() => resolveTimeouts({ idleTimeoutMs: 60_001 }, config))).toMatch(/idle_timeout_ms 60001 .* maximum 60000 \(EXEC_MAX_TIMEOUT_MS\)/);
  });
});
