import { loadConfig } from '../../common/config/exec-config';
import { outputBudget } from './output-budget';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('outputBudget', () => {
  it("derives each session's limit as a quarter of the smaller of EXEC_RETENTION_BYTES and the file system, and the reserve as that limit", () => {
    expect(outputBudget(loadConfig({}), 256 * MiB)).toEqual({ sessionBytes: 64 * MiB, reserveBytes: 64 * MiB, fileSystemBytes: 256 * MiB });
    expect(outputBudget(loadConfig({}), 1000 * GiB)).toEqual({ sessionBytes: 2.5 * GiB, reserveBytes: 2.5 * GiB, fileSystemBytes: 1000 * GiB });
  });

  it('takes the settings as given; the derived reserve is at most a quarter of the file system', () => {
    const c = loadConfig({ EXEC_SESSION_OUTPUT_BYTES: String(200 * MiB) });
    expect(outputBudget(c, 256 * MiB)).toMatchObject({ sessionBytes: 200 * MiB, reserveBytes: 64 * MiB });
    expect(outputBudget(loadConfig({ EXEC_DATA_RESERVE_BYTES: String(3 * MiB) }), 256 * MiB).reserveBytes).toBe(3 * MiB);
  });

  it('without a file system size (statfs failed), from EXEC_RETENTION_BYTES alone; never below 1 MiB', () => {
    expect(outputBudget(loadConfig({}), 0).sessionBytes).toBe(2.5 * GiB);
    expect(outputBudget(loadConfig({}), 2 * MiB).sessionBytes).toBe(MiB);
  });
});
