import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { parseOperatorConfig } from '@workerpool/operator/config';
import { createLogger } from '@workerpool/operator/logger';
import { startOperator } from '@workerpool/operator/operator';
import { startControlPlane } from './harness/control-plane.ts';
import { startRedisServer } from './harness/redis-server.ts';

// The local playground: a real control plane and Redis on loopback, the operator, and an example
// WorkerPool. There is no kubelet, so worker pods are scheduled nowhere; the Deployments, scaling
// decisions, status and events are all real.

const root = join(import.meta.dirname, '..', '..');
const controlPlane = await startControlPlane({ withControllerManager: true });
const redis = await startRedisServer();
controlPlane.kubectl(['apply', '--server-side', '-f', join(root, 'crds')]);
controlPlane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/workerpools.workerpool.dev']);

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
const logger = createLogger('info');
const operator = await startOperator(
  parseOperatorConfig({ metricsBindAddress: '127.0.0.1:8080', healthProbeBindAddress: '127.0.0.1:8081', logLevel: 'info', reconcileWorkers: 4, identity: 'playground' }),
  logger,
  { kubeConfig },
);

const example = parse(readFileSync(join(root, 'manifests', 'examples', 'native-workerpool.yaml'), 'utf8')) as { spec: { queue: { redis: { url: string } } } };
example.spec.queue.redis.url = redis.url;
controlPlane.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(example));

console.log(`
workerpool-operator playground is running.
  export KUBECONFIG=${controlPlane.kubeconfigPath}
  ${join(controlPlane.assets, 'kubectl')} get wp,deploy -A
  redis: ${redis.url}   metrics: http://127.0.0.1:8080/metrics
Press Ctrl-C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await operator.stop();
  await redis.stop();
  await controlPlane.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
