// Original file: proto/exec.proto

import type { Start as _dagger_exec_Start, Start__Output as _dagger_exec_Start__Output } from '../../dagger/exec/Start';
import type { Resize as _dagger_exec_Resize, Resize__Output as _dagger_exec_Resize__Output } from '../../dagger/exec/Resize';

export interface SessionRequest {
  'start'?: (_dagger_exec_Start | null);
  'stdin'?: (Buffer | Uint8Array | string);
  'resize'?: (_dagger_exec_Resize | null);
  'msg'?: "start"|"stdin"|"resize";
}

export interface SessionRequest__Output {
  'start'?: (_dagger_exec_Start__Output);
  'stdin'?: (Buffer);
  'resize'?: (_dagger_exec_Resize__Output);
  'msg'?: "start"|"stdin"|"resize";
}
