/**
 * Sizes and repetitions of every scenario. Three presets (smoke: the least that runs each scenario, inside the test suite;
 * quick: under 2 minutes; full: under 15), each figure overridable by an environment variable or a
 * `--name=value` flag of the same name in lower case without the BENCH_ prefix
 * (BENCH_S1_BYTES=64M  ≡  --s1-bytes=64M). Byte sizes accept K, M, G suffixes (binary).
 */
export type BenchMode = 'smoke' | 'quick' | 'full';

export interface BenchConfig {
  mode: BenchMode;
  /** A/B repetitions for scenarios 1, 2, 4 (each repetition runs every variant once, order rotated). */
  reps: number;
  s1Bytes: number;
  s2Bytes: number;
  s2Clients: number[];
  /** Scenario 2: processes the attaching clients run in (0: all in the bench process). */
  s2Processes: number;
  /** Scenario 2: also Docker's own fan-out, `docker attach` × k clients on one container. */
  s2DockerAttach: boolean;
  s3DurationMs: number;
  s3IntervalMs: number;
  s3Reps: number;
  s4Bytes: number;
  s4StallMs: number;
  s5Reps: number;
  s6Sessions: number;
  s6Bytes: number;
  s6Reps: number;
  s7Calls: number;
  /** Scenario 8: sessions of `true` started one after another per variant and repetition (server CPU per start). */
  s8Starts: number;
  /** Scenario 10: clients of its fan-out (the runner on A, the others on A or through B). */
  s10Clients: number;
  /** Scenario 10: size of the run a client behind B stalls through. */
  s10StallBytes: number;
  /** Scenario 10: containers on A whose owner B looks up the first time. */
  s10Lookups: number;
  /** Scenario 10: each replica beside an engine of its own (`own`, as in a cluster) or both on this machine's (`shared`: no engines to start). */
  s10Engines: 'own' | 'shared';
  /** Scenario 11: bytes of each line-oriented workload. */
  s11Bytes: number;
  /** Scenario 11: also run through a second server whose containers log to `local` (the default before the output record). */
  s11Local: boolean;
  /** Scenario 12 (the soak): short sessions run one after another, a few at a time. */
  soakSessions: number;
  /** Scenario 12: seconds of the steady session. */
  soakSeconds: number;
  /** Scenario 12: bytes per second the steady session writes. */
  soakRate: number;
  /** Scenario 12: after phase 2's bound, keep probing the server's memory every 5 s for this many seconds (0 = not). */
  soakAfterSeconds: number;
  /** Which scenarios to run (1..12; 9 and 12 only when named, 10 by default in the full preset only). */
  scenarios: number[];
  image: string;
  /** Start the server child with --cpu-prof, writing profiles here ('' = off). */
  cpuProfDir: string;
  /** More node flags for the server child, space-separated (e.g. "--trace-gc"). */
  serverNodeArgs: string;
  /** More environment for the server child, space-separated K=V (e.g. "MALLOC_ARENA_MAX=2"). */
  serverEnv: string;
  /** Append the server child's stdout/stderr to this file ('' = keep only for failure reports). */
  serverLog: string;
  /**
   * Where the JSON results (and, with writeDocs, a BENCHMARKS.md) go. '' = `.data/bench/` (ignored by
   * git), or, with writeDocs, the tracked bench/results/ and docs/BENCHMARKS.md.
   */
  outDir: string;
  /** Record the run in the repository (docs/BENCHMARKS.md's generated block): only when asked. */
  writeDocs: boolean;
  /** Scenario 9: the root of another built checkout whose server runs alternately with this one ('' = off). */
  compareRoot: string;
}

const MB = 1024 * 1024;
/** The soak's steady session: 10 MB/s (decimal, as the issue says). */
const SOAK_RATE = 10_000_000;

const PRESETS: Record<
  BenchMode,
  Omit<
    BenchConfig,
    'mode' | 'image' | 'cpuProfDir' | 'serverNodeArgs' | 'serverLog' | 'serverEnv' | 'outDir' | 'writeDocs' | 'scenarios' | 'compareRoot' | 'soakAfterSeconds'
  >
> = {
  // The least that runs every code path of every scenario (the suite's bench smoke): numbers, not figures.
  smoke: {
    reps: 1,
    s1Bytes: 256 * 1024,
    s2Bytes: 256 * 1024,
    s2Clients: [1, 2],
    s2Processes: 2,
    s2DockerAttach: true,
    s3DurationMs: 200,
    s3IntervalMs: 20,
    s3Reps: 1,
    s4Bytes: 1 * MB,
    s4StallMs: 100,
    s5Reps: 1,
    s6Sessions: 2,
    s6Bytes: 64 * 1024,
    s6Reps: 1,
    s7Calls: 2,
    s8Starts: 2,
    s10Clients: 2,
    s10StallBytes: 1 * MB,
    s10Lookups: 1,
    s10Engines: 'shared',
    s11Bytes: 256 * 1024,
    s11Local: false,
    soakSessions: 10,
    soakSeconds: 2,
    soakRate: SOAK_RATE,
  },
  quick: {
    reps: 2,
    s1Bytes: 64 * MB,
    s2Bytes: 16 * MB,
    s2Clients: [1, 4, 16, 64],
    s2Processes: 4,
    s2DockerAttach: true,
    s3DurationMs: 3000,
    s3IntervalMs: 10,
    s3Reps: 1,
    s4Bytes: 128 * MB,
    s4StallMs: 3000,
    s5Reps: 3,
    s6Sessions: 50,
    s6Bytes: 1 * MB,
    s6Reps: 1,
    s7Calls: 200,
    s8Starts: 30,
    s10Clients: 16,
    s10StallBytes: 128 * MB,
    s10Lookups: 5,
    s10Engines: 'own',
    s11Bytes: 8 * MB,
    s11Local: true,
    // Scenario 12 runs only when named, at the sizes whatever the preset (but smoke).
    soakSessions: 10_000,
    soakSeconds: 30 * 60,
    soakRate: SOAK_RATE,
  },
  full: {
    reps: 3,
    s1Bytes: 256 * MB,
    s2Bytes: 64 * MB,
    s2Clients: [1, 4, 16, 64],
    s2Processes: 4,
    s2DockerAttach: true,
    s3DurationMs: 10_000,
    s3IntervalMs: 10,
    s3Reps: 2,
    s4Bytes: 1024 * MB,
    s4StallMs: 10_000,
    s5Reps: 7,
    s6Sessions: 50,
    s6Bytes: 1 * MB,
    s6Reps: 3,
    s7Calls: 200,
    s8Starts: 100,
    s10Clients: 16,
    s10StallBytes: 256 * MB,
    s10Lookups: 10,
    s10Engines: 'own',
    s11Bytes: 20_000_000,
    s11Local: true,
    soakSessions: 10_000,
    soakSeconds: 30 * 60,
    soakRate: SOAK_RATE,
  },
};

export function parseBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(v.trim());
  if (!m) throw new Error(`not a size: ${v}`);
  const mult = { '': 1, k: 1024, m: MB, g: 1024 * MB }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

const parseInt10 = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new Error(`not a whole number: ${v}`);
  return Number(v);
};
const parseBool = (v: string): boolean => v === 'true' || v === '1';
const parseList = (v: string): number[] => v.split(',').filter(Boolean).map(parseInt10);

const FIELDS: Record<string, [keyof BenchConfig, (v: string) => unknown]> = {
  REPS: ['reps', parseInt10],
  S1_BYTES: ['s1Bytes', parseBytes],
  S2_BYTES: ['s2Bytes', parseBytes],
  S2_CLIENTS: ['s2Clients', parseList],
  S2_PROCESSES: ['s2Processes', parseInt10],
  S2_DOCKER_ATTACH: ['s2DockerAttach', parseBool],
  S3_DURATION_MS: ['s3DurationMs', parseInt10],
  S3_INTERVAL_MS: ['s3IntervalMs', parseInt10],
  S3_REPS: ['s3Reps', parseInt10],
  S4_BYTES: ['s4Bytes', parseBytes],
  S4_STALL_MS: ['s4StallMs', parseInt10],
  S5_REPS: ['s5Reps', parseInt10],
  S6_SESSIONS: ['s6Sessions', parseInt10],
  S6_BYTES: ['s6Bytes', parseBytes],
  S6_REPS: ['s6Reps', parseInt10],
  S7_CALLS: ['s7Calls', parseInt10],
  S8_STARTS: ['s8Starts', parseInt10],
  S10_CLIENTS: ['s10Clients', parseInt10],
  S10_STALL_BYTES: ['s10StallBytes', parseBytes],
  S10_LOOKUPS: ['s10Lookups', parseInt10],
  S10_ENGINES: [
    's10Engines',
    (v: string) => {
      if (v !== 'own' && v !== 'shared') throw new Error(`not own or shared: ${v}`);
      return v;
    },
  ],
  S11_BYTES: ['s11Bytes', parseBytes],
  S11_LOCAL: ['s11Local', parseBool],
  SOAK_SESSIONS: ['soakSessions', parseInt10],
  SOAK_SECONDS: ['soakSeconds', parseInt10],
  SOAK_RATE: ['soakRate', parseBytes],
  SOAK_AFTER_SECONDS: ['soakAfterSeconds', parseInt10],
  SCENARIOS: ['scenarios', parseList],
  IMAGE: ['image', String],
  CPU_PROF_DIR: ['cpuProfDir', String],
  SERVER_NODE_ARGS: ['serverNodeArgs', String],
  SERVER_LOG: ['serverLog', String],
  SERVER_ENV: ['serverEnv', String],
  OUT_DIR: ['outDir', String],
  COMPARE_ROOT: ['compareRoot', String],
};

/** Preset from BENCH_MODE / --mode (default quick), then env overrides, then flag overrides. */
export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): BenchConfig {
  const flags: Record<string, string> = {};
  for (const a of argv) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (flags are --name=value, e.g. --mode=full --s1-bytes=64M)`);
    flags[m[1].replace(/-/g, '_').toUpperCase()] = m[2] ?? 'true';
  }
  const get = (key: string): string | undefined => flags[key] ?? env[`BENCH_${key}`];
  const mode = (get('MODE') ?? 'quick') as BenchMode;
  if (!(mode in PRESETS)) throw new Error(`BENCH_MODE must be smoke, quick or full (got ${mode})`);
  const cfg: BenchConfig = {
    mode,
    ...PRESETS[mode],
    // 10 starts two more engines and replicas (~2.5 min at full sizes): in the full preset only.
    scenarios: mode === 'full' ? [1, 2, 3, 4, 5, 6, 7, 8, 10, 11] : [1, 2, 3, 4, 5, 6, 7, 8, 11],
    image: env.EXEC_BASE_IMAGE ?? 'exec-stream/busybox:latest',
    cpuProfDir: '',
    serverNodeArgs: '',
    serverLog: '',
    serverEnv: '',
    outDir: '',
    writeDocs: false,
    compareRoot: '',
    soakAfterSeconds: 0,
  };
  for (const [key, [field, parse]] of Object.entries(FIELDS)) {
    const v = get(key);
    if (v !== undefined && v !== '') (cfg as unknown as Record<string, unknown>)[field] = parse(v);
  }
  const docs = get('WRITE_DOCS');
  if (docs !== undefined) cfg.writeDocs = docs === 'true' || docs === '1';
  const known = new Set(['MODE', 'WRITE_DOCS', ...Object.keys(FIELDS)]);
  for (const k of Object.keys(flags)) if (!known.has(k)) throw new Error(`unknown flag --${k.toLowerCase().replace(/_/g, '-')}`);
  return cfg;
}

export function fmtBytes(n: number): string {
  if (n >= 1024 * MB && n % (1024 * MB) === 0) return `${n / (1024 * MB)} GiB`;
  if (n >= MB) return `${+(n / MB).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
