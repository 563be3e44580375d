// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

/**
 * exec-stream: one progress line of an image pull.
 */
export interface PullProgress {
  'image'?: (string);
  'status'?: (string);
  'layer'?: (string);
  'current'?: (number | string | Long);
  'total'?: (number | string | Long);
}

/**
 * exec-stream: one progress line of an image pull.
 */
export interface PullProgress__Output {
  'image'?: (string);
  'status'?: (string);
  'layer'?: (string);
  'current'?: (string);
  'total'?: (string);
}
