// Original file: proto/exec.proto


export interface ContainerStatusRequest {
  'container_id'?: (string);
  'include_resource_usage'?: (boolean);
}

export interface ContainerStatusRequest__Output {
  'container_id'?: (string);
  'include_resource_usage'?: (boolean);
}
