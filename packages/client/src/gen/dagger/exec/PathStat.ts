// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface PathStat {
  'name'?: (string);
  'size'?: (number | string | Long);
  'mode'?: (number);
  /**
   * Unix ns
   */
  'mtime'?: (number | string | Long);
  'link_target'?: (string);
}

export interface PathStat__Output {
  'name'?: (string);
  'size'?: (string);
  'mode'?: (number);
  /**
   * Unix ns
   */
  'mtime'?: (string);
  'link_target'?: (string);
}
