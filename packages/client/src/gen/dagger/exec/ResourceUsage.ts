// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface ResourceUsage {
  'cpu_percent'?: (number | string);
  'memory_bytes'?: (number | string | Long);
  'memory_limit'?: (number | string | Long);
  'io_read_bytes'?: (number | string | Long);
  'io_write_bytes'?: (number | string | Long);
  /**
   * exec-stream: how many of Docker's readings (about one a second) the figures come from: 2 = all of
   * them measured; 1 = memory and I/O measured, cpu_percent not yet (it needs two readings: it is 0);
   * 0 = no reading yet (a container in its first seconds: every figure is 0).
   */
  'readings'?: (number);
}

export interface ResourceUsage__Output {
  'cpu_percent'?: (number);
  'memory_bytes'?: (string);
  'memory_limit'?: (string);
  'io_read_bytes'?: (string);
  'io_write_bytes'?: (string);
  /**
   * exec-stream: how many of Docker's readings (about one a second) the figures come from: 2 = all of
   * them measured; 1 = memory and I/O measured, cpu_percent not yet (it needs two readings: it is 0);
   * 0 = no reading yet (a container in its first seconds: every figure is 0).
   */
  'readings'?: (number);
}
