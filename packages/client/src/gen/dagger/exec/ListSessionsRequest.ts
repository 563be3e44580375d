// Original file: proto/exec.proto


/**
 * exec-stream: ListSessions filters (all given must match) and page.
 */
export interface ListSessionsRequest {
  'container_id'?: (string);
  /**
   * "running", "finished" or empty for both.
   */
  'state'?: (string);
  /**
   * Every label given must be on the session with this value.
   */
  'labels'?: ({[key: string]: string});
  /**
   * "run", "exec" or empty for both.
   */
  'mode'?: (string);
  /**
   * Page size: 0 = 100; at most 1000.
   */
  'limit'?: (number);
  /**
   * next_page_token of the previous page; empty = the first page.
   */
  'page_token'?: (string);
  /**
   * exec-stream: only the session a Start with this request_id created (at most one).
   */
  'request_id'?: (string);
  /**
   * exec-stream: only the session with this id (at most one; with replicas, asked of its replica).
   */
  'session_id'?: (string);
}

/**
 * exec-stream: ListSessions filters (all given must match) and page.
 */
export interface ListSessionsRequest__Output {
  'container_id'?: (string);
  /**
   * "running", "finished" or empty for both.
   */
  'state'?: (string);
  /**
   * Every label given must be on the session with this value.
   */
  'labels'?: ({[key: string]: string});
  /**
   * "run", "exec" or empty for both.
   */
  'mode'?: (string);
  /**
   * Page size: 0 = 100; at most 1000.
   */
  'limit'?: (number);
  /**
   * next_page_token of the previous page; empty = the first page.
   */
  'page_token'?: (string);
  /**
   * exec-stream: only the session a Start with this request_id created (at most one).
   */
  'request_id'?: (string);
  /**
   * exec-stream: only the session with this id (at most one; with replicas, asked of its replica).
   */
  'session_id'?: (string);
}
