// A TCP port on loopback that was free a moment ago: the same helper the workers use for the
// Temporal SDK's private exporter.
export { freeLoopbackPort as freePort } from '../../src/metrics/free-port';
