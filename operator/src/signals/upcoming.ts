import { UPCOMING_HORIZONS_SECONDS, type UpcomingScheduled } from './queue-reading.ts';
import { replyNumber } from './reply.ts';

// The scheduled jobs coming due, as the readers' scripts reply them: a count within each of
// UPCOMING_HORIZONS_SECONDS (cumulative) and, per interval, milliseconds until its earliest job
// comes due (-1 when it holds none). One decoder for every format that has a scheduled set.

/** The script arguments that ask for the counts: how many horizons, then each in seconds. */
export function upcomingArgs(): number[] {
  return [UPCOMING_HORIZONS_SECONDS.length, ...UPCOMING_HORIZONS_SECONDS];
}

/** `UpcomingScheduled` from the 2k numbers that follow `upcomingArgs`' k horizons in a reply. */
export function decodeUpcoming(replies: readonly unknown[], truncated: boolean, what: string): UpcomingScheduled {
  const horizons = UPCOMING_HORIZONS_SECONDS;
  return upcomingFrom(
    horizons.map((horizon, i) => ({
      within: replyNumber(replies[i], `${what} due within ${horizon}s`),
      earliestMs: replyNumber(replies[horizons.length + i], `${what} earliest due within ${horizon}s`),
    })),
    truncated,
  );
}

/** Per horizon of UPCOMING_HORIZONS_SECONDS: the count within it and ms until its interval's earliest (-1: none). */
export function upcomingFrom(
  perHorizon: readonly { within: number; earliestMs: number }[],
  truncated = false,
): UpcomingScheduled {
  const horizons = UPCOMING_HORIZONS_SECONDS;
  return {
    horizonsSeconds: horizons,
    dueWithin: horizons.map((_, i) => perHorizon[i]?.within ?? 0),
    earliestDueInSeconds: horizons.map((_, i) => {
      const ms = perHorizon[i]?.earliestMs ?? -1;
      return ms < 0 ? (horizons[i - 1] ?? 0) : ms / 1000;
    }),
    ...(truncated ? { truncated: true } : {}),
  };
}

/** The pool's queues together: counts add up, and each interval's earliest is the soonest of the queues that have jobs in it. */
export function combineUpcoming(perQueue: readonly UpcomingScheduled[]): UpcomingScheduled {
  const horizons = UPCOMING_HORIZONS_SECONDS;
  const inInterval = (upcoming: UpcomingScheduled, i: number) =>
    (upcoming.dueWithin[i] ?? 0) - (upcoming.dueWithin[i - 1] ?? 0);
  return {
    horizonsSeconds: horizons,
    dueWithin: horizons.map((_, i) => perQueue.reduce((total, upcoming) => total + (upcoming.dueWithin[i] ?? 0), 0)),
    earliestDueInSeconds: horizons.map((_, i) => {
      const earliest = perQueue
        .filter((upcoming) => inInterval(upcoming, i) > 0)
        .map((upcoming) => upcoming.earliestDueInSeconds?.[i] ?? horizons[i - 1] ?? 0);
      return earliest.length === 0 ? (horizons[i - 1] ?? 0) : Math.min(...earliest);
    }),
    ...(perQueue.some((upcoming) => upcoming.truncated === true) ? { truncated: true } : {}),
  };
}
