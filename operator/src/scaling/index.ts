// The scaling engine's public surface: the controller and the simulator import from here.
export { decideScale, usableReading, STALE_AFTER_POLL_INTERVALS, STALE_AFTER_MIN_SECONDS } from './decide-scale.ts';
export { concurrencyPerReplica } from './observe.ts';
export { initialScalerState, SCALE_REASONS } from './types.ts';
export type { Decision, ScaleInput, ScalerState, ScaleReasonCode, SignalEstimate } from './types.ts';
export { persistSeasonalModel, restoreSeasonalModel } from './seasonal-model.ts';
export type { SeasonalModel } from './seasonal-model.ts';
