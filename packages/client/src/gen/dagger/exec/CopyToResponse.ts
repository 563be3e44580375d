// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface CopyToResponse {
  'bytes_received'?: (number | string | Long);
}

export interface CopyToResponse__Output {
  'bytes_received'?: (string);
}
