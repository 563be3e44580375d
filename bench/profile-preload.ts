/**
 * Preloaded (`node -r dist/bench/profile-preload.js --cpu-prof …`) into the server child when the bench
 * profiles it. NestJS's shutdown hook re-raises SIGTERM after closing the app, and a process ended by a
 * signal never writes its --cpu-prof profile; exiting through process.exit() does.
 */
process.on('SIGTERM', () => process.exit(0));
