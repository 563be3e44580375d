// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface ResourceUsage {
  'cpu_percent'?: (number | string);
  'memory_bytes'?: (number | string | Long);
  'memory_limit'?: (number | string | Long);
  'io_read_bytes'?: (number | string | Long);
  'io_write_bytes'?: (number | string | Long);
}

export interface ResourceUsage__Output {
  'cpu_percent'?: (number);
  'memory_bytes'?: (string);
  'memory_limit'?: (string);
  'io_read_bytes'?: (string);
  'io_write_bytes'?: (string);
}
