// Original file: proto/exec.proto


export interface ContainerControlRequest {
  'container_id'?: (string);
}

export interface ContainerControlRequest__Output {
  'container_id'?: (string);
}
