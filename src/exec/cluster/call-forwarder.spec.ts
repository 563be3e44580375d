import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { createRootLogger } from '../../common/logger';
import { CallForwarder, peerError, type RemoteOwner } from './call-forwarder';
import type { PeerChannels } from './peer-channels';
import type { PeerDirectory } from './peer-directory';

const owner: RemoteOwner = { local: false, replica: 'es-b', address: '10.0.0.2:50051' };
const grpcError = (code: Code, details: string): ServiceError =>
  Object.assign(new Error(`${code} ${Code[code]}: ${details}`), { code, details, metadata: new Metadata() });
const summary = (err: ReturnType<typeof peerError>) => ({ kind: err.kind, code: Code[err.grpcCode], message: err.message });

describe('peerError', () => {
  it("keeps the owner's own answer: its code and details, unchanged", () => {
    expect(summary(peerError(grpcError(Code.NOT_FOUND, 'no session es-b.x'), owner))).toEqual({
      kind: 'not_found',
      code: 'NOT_FOUND',
      message: 'no session es-b.x',
    });
    expect(summary(peerError(grpcError(Code.FAILED_PRECONDITION, 'container is not running'), owner))).toEqual({
      kind: 'precondition',
      code: 'FAILED_PRECONDITION',
      message: 'container is not running',
    });
    expect(summary(peerError(grpcError(Code.PERMISSION_DENIED, 'ContainerPause needs scope "control"'), owner))).toEqual({
      kind: 'permission',
      code: 'PERMISSION_DENIED',
      message: 'ContainerPause needs scope "control"',
    });
  });

  it('names the replica and its address when it is UNAVAILABLE, its details kept', () => {
    expect(summary(peerError(grpcError(Code.UNAVAILABLE, 'No connection established'), owner))).toEqual({
      kind: 'unavailable',
      code: 'UNAVAILABLE',
      message: 'replica es-b (10.0.0.2:50051) is unavailable: No connection established',
    });
  });

  it('reads a code no replica sends on purpose (DEADLINE_EXCEEDED, CANCELLED, UNKNOWN) as the replica being unavailable', () => {
    for (const code of [Code.DEADLINE_EXCEEDED, Code.CANCELLED, Code.UNKNOWN]) {
      expect(summary(peerError(grpcError(code, 'gone'), owner))).toEqual({
        kind: 'unavailable',
        code: 'UNAVAILABLE',
        message: 'replica es-b (10.0.0.2:50051) is unavailable: gone',
      });
    }
  });

  it('is INTERNAL, naming the replica, for an error that is no gRPC status', () => {
    expect(summary(peerError(new TypeError('boom'), owner))).toEqual({
      kind: 'internal',
      code: 'INTERNAL',
      message: 'forwarding to replica es-b: TypeError: boom',
    });
    expect(summary(peerError('a string', owner))).toEqual({ kind: 'internal', code: 'INTERNAL', message: 'forwarding to replica es-b: a string' });
  });
});

describe('CallForwarder', () => {
  it('opens nothing for a call the client cancelled while its owner was looked up', async () => {
    let opened = 0;
    const channels = { bidiUndecoded: () => (opened++, {}), serverStream: () => (opened++, {}), clientStream: () => (opened++, {}) };
    const forwarder = new CallForwarder(channels as unknown as PeerChannels, { self: 'es-a' } as unknown as PeerDirectory, createRootLogger('silent'));
    const call = Object.assign(new EventEmitter(), {
      cancelled: true,
      write: () => true,
      end: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
    });
    const owner = { local: false as const, replica: 'es-b', address: '10.0.0.2:50051' };
    await forwarder.session(call, {}, owner);
    await forwarder.serverStream(call, 'CopyFrom', {}, owner);
    await expect(forwarder.clientStream(call, 'CopyTo', {}, owner)).rejects.toMatchObject({ kind: 'aborted' });
    expect(opened).toBe(0);
  });
});
