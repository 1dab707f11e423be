/**
 * @workerpool/worker-runtime/config: the worker process's settings, for the programs that configure
 * worker pods (the operator sets their environment from SETTINGS and bounds its schema by the limits).
 */
export { SETTINGS, CONFIG_DEFAULTS, parseRunConfig, type RunConfig } from './config.ts';
export { MAX_CONCURRENCY, MAX_DRAIN_TIMEOUT_SECONDS } from './limits.ts';
export type { SettingSource } from './settings.ts';
