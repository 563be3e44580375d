/** Linux signal numbers (x86_64/arm64 numbering, which is what Docker's Linux containers use). */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** Highest signal number Linux accepts (SIGRTMAX). */
export const MAX_SIGNAL = 64;

const NAME_BY_NUMBER = new Map<number, string>();
for (const [name, n] of Object.entries(SIGNALS)) if (!NAME_BY_NUMBER.has(n)) NAME_BY_NUMBER.set(n, name);

/** SIGTERM for 15; SIGRTMIN+n for the real-time range; undefined for numbers Linux has no signal for. */
export function signalName(n: number): string | undefined {
  if (NAME_BY_NUMBER.has(n)) return NAME_BY_NUMBER.get(n);
  if (n >= 34 && n <= MAX_SIGNAL) return n === 34 ? 'SIGRTMIN' : `SIGRTMIN+${n - 34}`;
  return undefined;
}
