// Faults injected into the API server's store itself, through etcd's JSON gateway on loopback.

async function etcdCall(etcdUrl: string, path: string, body: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`etcd ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/**
 * Makes every resourceVersion handed out so far unservable: one write outside the API server's
 * /registry prefix moves the revision past all of them, then a compaction up to it drops their
 * history. A watch that resumes from one of them is answered 410 Gone, by the watch cache and by etcd alike.
 * Returns the compacted revision.
 */
export async function compactPastEverySeenVersion(etcdUrl: string): Promise<number> {
  const key = Buffer.from('/workerpool-test/compaction-marker').toString('base64');
  const put = (await etcdCall(etcdUrl, '/v3/kv/put', {
    key,
    value: Buffer.from(String(Date.now())).toString('base64'),
  })) as {
    header?: { revision?: string };
  };
  const revision = Number(put.header?.revision);
  if (!Number.isInteger(revision) || revision <= 0)
    throw new Error(`etcd put returned no revision: ${JSON.stringify(put)}`);
  await etcdCall(etcdUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
