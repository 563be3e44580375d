// Original file: proto/exec.proto


export interface SessionResizesRequest {
  'session_id'?: (string);
}

export interface SessionResizesRequest__Output {
  'session_id'?: (string);
}
