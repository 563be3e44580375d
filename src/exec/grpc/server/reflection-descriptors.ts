import { readFileSync } from 'node:fs';
import { descriptorSetPath } from '../../../common/proto-path';

/** What @grpc/reflection reads from a package definition: each entry's encoded FileDescriptorProtos. */
export type ReflectionPackage = Record<string, { fileDescriptorProtos: Buffer[] }>;

/** Reads a base-128 varint at `pos`; returns the value and the position after it. */
function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= buf.length) break;
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
  }
  throw new Error('descriptor set: truncated or overlong varint');
}

/** The encoded FileDescriptorProtos of a FileDescriptorSet (`repeated FileDescriptorProto file = 1`). */
export function splitDescriptorSet(set: Buffer): Buffer[] {
  const files: Buffer[] = [];
  for (let pos = 0; pos < set.length;) {
    const [tag, afterTag] = varint(set, pos);
    const [length, start] = varint(set, afterTag);
    if (tag !== ((1 << 3) | 2)) throw new Error(`descriptor set: unexpected field (tag ${tag}) at byte ${pos}`);
    if (start + length > set.length) throw new Error(`descriptor set: truncated file entry at byte ${pos}`);
    files.push(set.subarray(start, start + length));
    pos = start + length;
  }
  return files;
}

/**
 * The schema server reflection serves: proto/descriptor-set.binpb, built from the .proto files by a
 * real compiler (buf), in the shape @grpc/reflection takes in place of a proto-loader package.
 */
export function reflectionPackage(path = descriptorSetPath()): ReflectionPackage {
  return { descriptorSet: { fileDescriptorProtos: splitDescriptorSet(readFileSync(path)) } };
}
