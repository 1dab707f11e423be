// A process that takes the leader lease and holds it until killed: lets a test crash a leader
// for real (SIGKILL), without a chance to hand the lease back.
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../controller/leader-election.ts';
import { createLogger } from '../logger.ts';

const [kubeconfigPath = '', namespace = '', identity = '', leaseDurationMs = '2000'] = process.argv.slice(2);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath);
const elector = new LeaderElector({
  kubeConfig,
  namespace,
  name: 'workerpool-operator',
  identity,
  logger: createLogger('fatal'),
  leaseDurationMs: Number(leaseDurationMs),
  renewDeadlineMs: Number(leaseDurationMs) * 0.75,
  retryPeriodMs: 200,
});
await elector.acquire(() => process.exit(1));
console.log('leading');
