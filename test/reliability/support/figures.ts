import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where each scenario leaves its figures (docs/RELIABILITY.md quotes them). */
export const RESULTS_DIR = join(__dirname, '..', '..', '..', '.data', 'reliability');

/** Writes a scenario's figures as JSON to .data/reliability/<scenario>.json and prints them. */
export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const body = JSON.stringify({ scenario, at: new Date().toISOString(), ...figures }, null, 2);
  writeFileSync(join(RESULTS_DIR, `${scenario}.json`), body + '\n');
  process.stdout.write(`[reliability] ${scenario}: ${JSON.stringify(figures)}\n`);
}

export interface ProcessUsage {
  rssKiB: number;
  fds: number;
}

/** Resident set size (VmRSS) and open file descriptors of a live process, from /proc. */
export function processUsage(pid: number): ProcessUsage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return { rssKiB: rss ? Number(rss[1]) : -1, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Whether a process still exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Counts occurrences: { INVALID_ARGUMENT: 812, ... }. */
export function tally(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}
