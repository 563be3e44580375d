// A consumer's program against the packed @exec-stream/client (test/error-details.e2e-spec.ts): it reads
// statuses exactly as the service sent them (code, message, the grpc-status-details-bin trailer, as JSON
// on stdin), turns each into an ExecError as the package does for every failed call, and prints what a
// program can act on as one JSON line.
import { Metadata } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { Code, ERROR_REASONS, isErrorReason, toExecError, type ExecError } from '@exec-stream/client';

interface Captured {
  row: string;
  code: number;
  details: string;
  bin?: string;
}

const input = JSON.parse(readFileSync(0, 'utf8')) as Captured[];
const decoded = input.map(({ row, code, details, bin }) => {
  const metadata = new Metadata();
  if (bin) metadata.set('grpc-status-details-bin', Buffer.from(bin, 'base64'));
  const e = toExecError({ code, details, metadata }) as ExecError;
  return {
    row,
    code: Code[e.code],
    reason: e.reason,
    listed: isErrorReason(e.reason) && ERROR_REASONS[e.reason].code === e.code,
    domain: e.domain,
    resource: e.resource?.type,
    retryable: e.retryable,
    fields: e.fieldViolations.map((v) => v.field),
  };
});
console.log(JSON.stringify({ decoded }));
