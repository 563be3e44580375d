// Original file: proto/exec.proto

import type { ResourceUsage as _dagger_exec_ResourceUsage, ResourceUsage__Output as _dagger_exec_ResourceUsage__Output } from '../../dagger/exec/ResourceUsage';
import type { Long } from '@grpc/proto-loader';

export interface ContainerStatusResponse {
  'container_id'?: (string);
  'status'?: (string);
  'exit_code'?: (number);
  'started_at'?: (number | string | Long);
  'finished_at'?: (number | string | Long);
  'resource_usage'?: (_dagger_exec_ResourceUsage | null);
  '_exit_code'?: "exit_code";
  '_finished_at'?: "finished_at";
  '_resource_usage'?: "resource_usage";
}

export interface ContainerStatusResponse__Output {
  'container_id'?: (string);
  'status'?: (string);
  'exit_code'?: (number);
  'started_at'?: (string);
  'finished_at'?: (string);
  'resource_usage'?: (_dagger_exec_ResourceUsage__Output);
  '_exit_code'?: "exit_code";
  '_finished_at'?: "finished_at";
  '_resource_usage'?: "resource_usage";
}
