import { DefaultLogger, Runtime } from '@temporalio/worker';

// Temporal's worker logs every state change at INFO; tests only want warnings and errors.
Runtime.install({ logger: new DefaultLogger('WARN') });
