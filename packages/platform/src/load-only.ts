// load-only.ts: the argument that makes a service's process load its code and exit, starting
// nothing (runServiceProcess): what filling Node's compile cache needs (scripts/build.ts, the
// Dockerfiles). A module of its own, so that the build script that passes it does not load the
// service runtime (logger, OpenTelemetry: ~0.7 s) to learn it.

/** LOAD_ONLY is the argument that makes a service's process load its code and exit. */
export const LOAD_ONLY = '--load-only'
