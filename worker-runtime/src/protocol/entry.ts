/** A wait-list entry `<readyAtMs>:<jobId>`: the ready time rides along so the oldest age is one LINDEX. */

export function encodeEntry(readyAtMs: number, jobId: string): string {
  return `${Math.floor(readyAtMs)}:${jobId}`;
}

/** The job id of an entry (ids may themselves contain colons: only the first one separates). */
export function entryJobId(entry: string): string {
  const sep = entry.indexOf(':');
  return sep < 0 ? entry : entry.slice(sep + 1);
}

export function entryReadyAt(entry: string): number {
  const sep = entry.indexOf(':');
  return sep < 0 ? Number.NaN : Number(entry.slice(0, sep));
}

/**
 * A reservation: the member `<token>:<entry>` of the active set. The token is the reserving call's
 * own (no colon in it, and a letter first, so that it is never read as a ready time), so a worker
 * that lost a reservation cannot act on the one that replaced it.
 */
export function encodeReservation(token: string, entry: string): string {
  return `${token}:${entry}`;
}

/** The wait entry a reservation holds. */
export function reservationEntry(reservation: string): string {
  return reservation.slice(reservation.indexOf(':') + 1);
}
