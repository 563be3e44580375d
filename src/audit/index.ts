/** Beside the data path: the audit trail of calls and session outcomes (a hash chain in EXEC_DATA_DIR/audit), its reader and its module. */
export * from './audit-event';
export * from './audit-filter';
export * from './audit-reader';
export * from './audit-trail';
export * from './audit.module';
