// Original file: proto/exec.proto


export interface ContainerControlResponse {
  'success'?: (boolean);
  'message'?: (string);
}

export interface ContainerControlResponse__Output {
  'success'?: (boolean);
  'message'?: (string);
}
