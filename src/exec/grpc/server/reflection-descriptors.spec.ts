import { reflectionPackage, splitDescriptorSet } from './reflection-descriptors';

describe('splitDescriptorSet', () => {
  it('splits the committed set into exec.proto, the google/rpc status protos (with their imports) and health.proto', () => {
    const files = reflectionPackage().descriptorSet.fileDescriptorProtos;
    // Field 1 of a FileDescriptorProto is its name.
    expect(files.map((f) => f.subarray(2, 2 + f[1]).toString()).sort()).toEqual([
      'exec.proto',
      'google/protobuf/any.proto',
      'google/protobuf/duration.proto',
      'google/rpc/error_details.proto',
      'google/rpc/status.proto',
      'health/v1/health.proto',
    ]);
  });

  it('refuses a truncated or foreign file rather than serving half a schema', () => {
    expect(() => splitDescriptorSet(Buffer.from([0x0a, 0x05, 0x01]))).toThrow(/truncated/);
    expect(() => splitDescriptorSet(Buffer.from([0x12, 0x00]))).toThrow(/tag 18/);
    expect(() => splitDescriptorSet(Buffer.from([0x0a, 0x80]))).toThrow(/varint/);
  });
});
