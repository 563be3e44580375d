import { InvalidArgumentError, type Command } from 'commander';
import { verifyAuditTrail } from '../../audit/audit-verify';
import { AuditClient } from '../../audit-client';
import type { AuditEvent__Output } from '../../gen';
import { contextOf, isoFromNs, toJson } from '../context';
import { CliError, describeError } from '../exit-codes';
import { addConnectionOptions, duration } from '../options';

interface AuditFlags {
  follow?: boolean;
  since?: Date;
  until?: Date;
  caller?: string;
  session?: string;
  container?: string;
  action?: string[];
  after?: string[];
  json?: boolean;
}

/** Exit code of `audit verify` when the trail has a break (125 stays the CLI's own failure). */
export const EXIT_AUDIT_BROKEN = 1;

/** A point in time: RFC 3339 (`2026-12-01T10:00:00Z`), or a duration ago (`10m`, `1h30m`), as docker's --since. */
export function pointInTime(value: string, now = Date.now()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new InvalidArgumentError(`expected a time such as 2026-12-01T10:00:00Z or a duration such as 10m, got "${value}"`);
    return new Date(ms);
  }
  return new Date(now - duration(value));
}

const repeat = (value: string, previous: string[] = []) => [...previous, value];

export function registerAudit(program: Command): void {
  const audit = addConnectionOptions(program.command('audit'))
    .description('print the audit trail: who did what, when, from where (scope audit); with --follow, live events until interrupted')
    .option('-f, --follow', 'after the held events, print live ones until Ctrl-C (exit 0)')
    .option('--since <time>', 'only events from this time: RFC 3339, or a duration ago (10m, 2h)', (v) => pointInTime(v))
    .option('--until <time>', 'only events before this time: RFC 3339, or a duration ago', (v) => pointInTime(v))
    .option('--caller <name>', "only this caller's calls: a token's name or a certificate subject")
    .option('--session <id>', "only this session's events")
    .option('--container <id>', "only this container's events (id or prefix)")
    .option('--action <action>', 'only this action (repeatable): run, exec, attach, stdin, resize, signal, … (docs/AUDIT.md)', repeat)
    .option('--after <id>', 'resume after this event id (<replica>:<seq>; repeatable, one per replica)', repeat)
    .option('--json', 'one JSON object per line: the AuditEvent (proto field names, 64-bit values as strings)')
    .action(async (flags: AuditFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const stream = new AuditClient(ctx.connection).events({
        follow: flags.follow,
        since: flags.since,
        until: flags.until,
        caller: flags.caller,
        sessionId: flags.session,
        containerId: flags.container,
        actions: flags.action,
        resumeAfter: flags.after,
      });
      const stop = () => {
        stream.cancel();
        ctx.connection.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        for await (const m of stream) {
          if (m.event) process.stdout.write(flags.json ? `${toJson(m.event)}\n` : line(m.event));
          else if (m.replica_unreachable) process.stderr.write(`exec-stream: replica ${m.replica_unreachable} could not be asked: its events are missing\n`);
          else if (m.replica_reachable) process.stderr.write(`exec-stream: replica ${m.replica_reachable} answers again\n`);
        }
      } catch (err) {
        throw new CliError(`cannot read the audit trail: ${describeError(err)}`);
      } finally {
        ctx.connection.close();
      }
    });
  audit
    .command('verify')
    .exitOverride()
    .description("check a trail's hash chain and name its first break (exit 0 intact, 1 broken): its folder (EXEC_DATA_DIR/audit) or a file of event lines")
    .argument('<path>', 'the trail folder, a segment, or a log file with the service\'s "type":"audit" lines')
    .action((path: string) => {
      let result: ReturnType<typeof verifyAuditTrail>;
      try {
        result = verifyAuditTrail(path);
      } catch (err) {
        throw new CliError(`cannot read the audit trail at ${path}: ${(err as Error).message}`);
      }
      const range = result.events ? `seq ${result.firstSeq}..${result.lastSeq}` : 'no events';
      const removed = result.removedSegments ? `, ${result.removedSegments} removed by retention` : '';
      if (result.break) {
        const b = result.break;
        process.stdout.write(`${path}: ${result.events} event(s) intact (${range}) before the first break\n`);
        process.stdout.write(`first break: ${b.file}${b.line ? ` line ${b.line}` : ''}${b.seq !== undefined ? ` (seq ${b.seq})` : ''}: ${b.problem}\n`);
        process.exitCode = EXIT_AUDIT_BROKEN;
        return;
      }
      process.stdout.write(`${path}: intact: ${result.events} event(s), ${range}, in ${result.segments} segment(s)${removed}; head ${result.head ?? '-'}\n`);
    });
}

/** One event on one line: time, id, action, result (and reason), caller, session / container, what was asked. */
function line(e: AuditEvent__Output): string {
  const parts = [isoFromNs(e.time), String(e.id), String(e.action), String(e.result)];
  const c = e.caller;
  if (c?.token || c?.subject || c?.peer) {
    const who = [c.token && `token=${c.token}`, c.subject && `subject=${JSON.stringify(c.subject)}`, c.peer && `peer=${c.peer}`].filter(Boolean);
    if (c.forwarded_by) who.push(`via=${c.forwarded_by}`);
    parts.push(...(who as string[]));
  }
  if (e.session_id) parts.push(`session=${e.session_id}`);
  if (e.container_id) parts.push(`container=${e.container_id.slice(0, 12)}`);
  if (e.exec_id) parts.push(`exec=${e.exec_id.slice(0, 12)}`);
  const r = e.request;
  if (r?.image) parts.push(`image=${r.image}`);
  if (r?.command?.length) parts.push(`command=${JSON.stringify(r.command)}`);
  if (r?.signal) parts.push(`signal=${r.signal}`);
  if (r?.width) parts.push(`size=${r.width}x${r.height}`);
  if (r?.path) parts.push(`path=${JSON.stringify(r.path)}`);
  if (e.outcome) parts.push(`exit=${e.outcome.exit_code}`, `reason=${e.outcome.reason}`);
  if (e.reason) parts.push(`why=${JSON.stringify(e.reason)}`);
  return `${parts.join(' ')}\n`;
}
