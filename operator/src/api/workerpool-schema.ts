import type { V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import { Type, type Static } from 'typebox';
import { MAX_CONCURRENCY } from '@workerpool/worker-runtime/config';
import { bool, int, list, map, num, oneOf, positiveNumber, text, timestamp, withRules } from './schema-helpers.ts';

// The one source of truth for the WorkerPool API: the CRD in crds/ is generated from these
// schemas (npm run generate:crd) and the TypeScript types below are inferred from them, so the
// two cannot drift. Defaults written here are applied by the API server and, for objects built
// in code, by applySpecDefaults().

export const GROUP = 'workerpool.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'WorkerPool';
export const PLURAL = 'workerpools';
export const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * status.queue is a snapshot for people and GitOps tools, not a metrics feed: it is rewritten with
 * every status write that happens anyway (a new decision, a condition change), and otherwise at
 * most this often. A minute keeps a busy pool at one write a minute for its readings, which leaves
 * room within the two a minute a large installation can afford for the decisions themselves.
 * Metrics carry every poll.
 */
export const QUEUE_STATUS_REFRESH_SECONDS = 60;

/**
 * scaling.predictive: learn the pool's daily and hourly arrival pattern, and whether to act on it.
 * Not off/on: YAML 1.1, which kubectl reads manifests with, turns a bare `on` or `off` into a boolean.
 */
export const PREDICTIVE_MODES = ['disabled', 'shadow', 'enabled'] as const;
export type PredictiveMode = (typeof PREDICTIVE_MODES)[number];

export const QUEUE_FORMATS = ['native', 'sidekiq', 'bullmq', 'list', 'stream'] as const;
export type QueueFormat = (typeof QUEUE_FORMATS)[number];

const secretKeyRef = (description: string) =>
  Type.Object(
    {
      name: text("Name of a Secret in the WorkerPool's namespace.", { minLength: 1 }),
      key: text('Key within the Secret whose value is used.', { minLength: 1 }),
    },
    { description },
  );

const hostPort = text('A host:port pair, for example redis-sentinel.cache.svc:26379.', {
  minLength: 3,
  pattern: '^[^:/\\s]+:[0-9]{1,5}$',
});

/**
 * The schema's scale-down window, chosen on the scaling benchmark (scaling/adr/0001). Up to it the
 * engine also follows clear drops and finished batches sooner; a longer window is held as set.
 */
export const DEFAULT_SCALE_DOWN_WINDOW_SECONDS = 45;

const scalingRules = (direction: 'up' | 'down', defaultWindow: number) =>
  Type.Object(
    {
      stabilizationWindowSeconds: int(
        direction === 'up'
          ? 'Seconds of recommendations to consider when scaling up: the lowest recommendation in the window is used, which damps flapping. 0 scales up at once.'
          : `Seconds of recommendations to consider when scaling down: the highest recommendation in the window is used, so the pool shrinks only after load has stayed low this long. The window is there for noise: with the default (${DEFAULT_SCALE_DOWN_WINDOW_SECONDS}) or less, where the format reports jobs in flight, the engine follows a clear drop in arrivals after 15 s and lets a finished batch's idle replicas go after 2 s with nothing waiting or arriving. A longer window is held exactly as set, as the HorizontalPodAutoscaler does.`,
        { minimum: 0, maximum: 3600, default: defaultWindow },
      ),
      policies: Type.Optional(
        list(
          `Rate limits on scaling ${direction}, as in the HorizontalPodAutoscaler: each allows a change of at most \`value\` pods (or percent of current replicas) per \`periodSeconds\`.`,
          Type.Object(
            {
              type: oneOf(
                'Pods limits the change to a number of pods; Percent to a percentage of the current replicas.',
                ['Pods', 'Percent'] as const,
              ),
              value: int('Pods or percent allowed per period.', { minimum: 1, maximum: 10000 }),
              periodSeconds: int('Length of the period the limit applies to.', { minimum: 1, maximum: 1800 }),
            },
            { description: 'One rate limit.' },
          ),
          { maxItems: 10 },
        ),
      ),
      selectPolicy: Type.Optional(
        oneOf(
          'Which policy wins when several apply: Max (the largest change, the default), Min (the smallest), or Disabled (never scale in this direction).',
          ['Max', 'Min', 'Disabled'] as const,
          'Max',
        ),
      ),
    },
    { description: `How the pool scales ${direction}.`, default: {} },
  );

export const RedisEndpointSchema = Type.Object(
  {
    url: Type.Optional(
      text(
        'Redis URL of a single server: redis://host:port/db or rediss://host:port/db for TLS. Credentials do not belong here: use passwordSecretRef.',
        {
          minLength: 9,
          maxLength: 512,
          pattern: '^rediss?://',
        },
      ),
    ),
    sentinel: Type.Optional(
      Type.Object(
        {
          masterName: text('Name of the master set the sentinels monitor.', { minLength: 1 }),
          endpoints: list('Sentinel endpoints (host:port); any reachable one is enough.', hostPort, {
            minItems: 1,
            maxItems: 10,
          }),
          db: Type.Optional(int('Logical database number.', { minimum: 0, maximum: 255, default: 0 })),
        },
        { description: 'Reach Redis through Redis Sentinel instead of a fixed URL.' },
      ),
    ),
    cluster: Type.Optional(
      Type.Object(
        {
          endpoints: list('Seed nodes of the Redis Cluster (host:port).', hostPort, { minItems: 1, maxItems: 10 }),
        },
        {
          description:
            'Reach a Redis Cluster. Keys of one queue must hash to one slot (BullMQ and the native format use {hash tags} for this).',
        },
      ),
    ),
    usernameSecretRef: Type.Optional(
      secretKeyRef('Secret key holding the Redis ACL user name (Redis 6+). Omit to use the default user.'),
    ),
    passwordSecretRef: Type.Optional(
      secretKeyRef(
        'Secret key holding the Redis password. The value is never logged nor copied into status or events.',
      ),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          enabled: bool('Connect with TLS.', false),
          insecureSkipVerify: bool('Accept any server certificate. Only for testing.', false),
          caSecretRef: Type.Optional(
            secretKeyRef('Secret key holding a PEM CA bundle that signs the server certificate.'),
          ),
          serverName: Type.Optional(
            text('Server name to verify the certificate against, when it differs from the host.'),
          ),
        },
        { description: 'TLS settings. A rediss:// URL enables TLS as well.' },
      ),
    ),
  },
  {
    description: 'Where the queue lives: exactly one of url, sentinel or cluster.',
    ...withRules([
      {
        rule: '(has(self.url) ? 1 : 0) + (has(self.sentinel) ? 1 : 0) + (has(self.cluster) ? 1 : 0) == 1',
        message: 'exactly one of url, sentinel or cluster must be set',
      },
      {
        rule: "!has(self.url) || !self.url.matches('^rediss?://[^/@]*@')",
        message: 'must not contain credentials; put the password in a Secret and reference it with passwordSecretRef',
        fieldPath: '.url',
      },
    ]),
  },
);

export const QueueSchema = Type.Object(
  {
    format: oneOf(
      "How jobs are stored in Redis: native (this project's worker-runtime), sidekiq (6.x to 8.x), bullmq (v5, v6), list (a plain Redis list, as KEDA's redis scaler reads it) or stream (a Redis stream read by a consumer group).",
      QUEUE_FORMATS,
    ),
    names: list(
      "Queues the pool's workers take jobs from. Depth is summed over them and latency is the age of the oldest waiting job among them (scaling.queueTargetLatencySeconds gives single queues a tighter target). For list and stream these are Redis key names.",
      text('A queue name.', { minLength: 1, maxLength: 256 }),
      { minItems: 1, maxItems: 100, set: true },
    ),
    redis: RedisEndpointSchema,
    keyPrefix: Type.Optional(
      text(
        'Prefix of every key. native: the worker-runtime key prefix (default "wp"). bullmq: the queue prefix (default "bull"). sidekiq: the redis-namespace of Sidekiq 6 (default none). Not used by list and stream.',
        { maxLength: 128 },
      ),
    ),
    list: Type.Optional(
      Type.Object(
        {
          timestampField: Type.Optional(
            text(
              'JSON field of each list item holding its enqueue time. Without it depth is known but latency is not, and latency-based scaling is unavailable.',
              { minLength: 1, maxLength: 128 },
            ),
          ),
          timestampUnit: oneOf(
            'Unit of the timestamp field: seconds or milliseconds since the epoch.',
            ['seconds', 'milliseconds'] as const,
            'milliseconds',
          ),
          oldestAt: oneOf(
            'Which end of the list is the oldest item: right (producers LPUSH, consumers RPOP, as KEDA assumes) or left.',
            ['right', 'left'] as const,
            'right',
          ),
        },
        { description: 'Settings for format list.' },
      ),
    ),
    stream: Type.Optional(
      Type.Object(
        {
          consumerGroup: text(
            'Consumer group the workers read with. Lag and pending entries are read for this group.',
            { minLength: 1, maxLength: 256 },
          ),
        },
        { description: 'Settings for format stream.' },
      ),
    ),
  },
  {
    description: 'The queue the pool works on and how to read its depth and latency.',
    ...withRules([
      {
        rule: "self.format != 'stream' || has(self.stream)",
        message: 'format stream needs stream.consumerGroup',
        fieldPath: '.stream',
        reason: 'FieldValueRequired',
      },
      {
        rule: "!has(self.stream) || self.format == 'stream'",
        message: 'stream settings apply only to format stream',
        fieldPath: '.stream',
        reason: 'FieldValueForbidden',
      },
      {
        rule: "!has(self.list) || self.format == 'list'",
        message: 'list settings apply only to format list',
        fieldPath: '.list',
        reason: 'FieldValueForbidden',
      },
      {
        rule: "!has(self.keyPrefix) || self.format in ['native', 'bullmq', 'sidekiq']",
        message: 'keyPrefix applies only to formats native, bullmq and sidekiq',
        fieldPath: '.keyPrefix',
        reason: 'FieldValueForbidden',
      },
    ]),
  },
);

export const ScalingSchema = Type.Object(
  {
    minReplicas: int(
      'Fewest replicas. 0 lets an idle pool scale to zero; it wakes when a job waits, counting scheduled and retry jobs that have come due.',
      { minimum: 0, maximum: 10000, default: 1 },
    ),
    maxReplicas: int(
      "Most replicas, whatever the load. A BullMQ queue's own global concurrency and global rate limit (its meta hash) cap the replicas further: no more run than the queue lets work, and status.lastScaleReason names that bound when it wins.",
      { minimum: 1, maximum: 10000, default: 10 },
    ),
    concurrency: int(
      'Jobs one replica runs at once. Worker heartbeats refine it when the format records them. At most what the worker runtime accepts.',
      { minimum: 1, maximum: MAX_CONCURRENCY, default: 10 },
    ),
    targetLatencySeconds: positiveNumber(
      'The service level: a job should start within this many seconds of being enqueued. The pool is sized to keep the oldest waiting job younger than this; queueTargetLatencySeconds may set tighter targets for single queues.',
      {
        maximum: 86400,
        default: 30,
      },
    ),
    queueTargetLatencySeconds: Type.Optional(
      map(
        "Latency targets of single queues, tighter than targetLatencySeconds: for example {critical: 5} in a pool whose targetLatencySeconds is 60. Each key is one of queue.names; a queue not named here has targetLatencySeconds. The pool is sized for targetLatencySeconds over all its queues, and for each queue named here the engine also works out the replicas that bring that queue's oldest waiting job within its own target (its backlog, at the pool's measured throughput per replica); the largest need wins, and status.lastScaleReason names the queue when it is one (\"queue critical: oldest job 12s > its target 5s\"). A queue whose oldest job the format cannot date (a list without timestampField) is sized by the pool's rule alone.",
        positiveNumber("The queue's target in seconds: at most targetLatencySeconds.", { maximum: 86400 }),
        { maxProperties: 100 },
      ),
    ),
    pollIntervalSeconds: int('How often queue signals are read and the scale decided.', {
      minimum: 1,
      maximum: 300,
      default: 2,
    }),
    scaleToZeroAfterSeconds: int(
      'With minReplicas 0: how long the queue must be empty and idle before the pool goes to zero.',
      { minimum: 0, maximum: 86400, default: 30 },
    ),
    podStartupSeconds: int(
      'Typical seconds from a scale-up to a worker taking jobs. The engine scales ahead by this much.',
      { minimum: 0, maximum: 3600, default: 10 },
    ),
    predictive: oneOf(
      "Learned seasonality (operator/src/scaling/adr/0003). disabled (the default) learns nothing. shadow learns the pool's arrival rate by 5-minute bucket of the UTC day and by minute of the hour, from the arrivals the engine already measures, keeps the model in status.forecast across operator restarts and reports its forecast and forecast error (workerpool_forecast_* metrics), but never acts. enabled also acts: once the model has learned for a day and while its recent forecast error is at most 35 %, it raises replicas ahead of a forecast rise (sized by the same queue model, pods Ready when it lands: a start-up and a poll ahead), never below what the reactive engine asks; status.lastScaleReason then starts with the forecast. Try it first with `workerpool-operator simulate --compare` on a trace of a few days recorded with `record`.",
      PREDICTIVE_MODES,
      'disabled',
    ),
    scaleUp: scalingRules('up', 0),
    // Defaults chosen on the scaling benchmark: operator/src/scaling/adr/0001-defaults-that-serve.md.
    scaleDown: scalingRules('down', DEFAULT_SCALE_DOWN_WINDOW_SECONDS),
    fallback: Type.Optional(
      Type.Object(
        {
          failureThresholdSeconds: int('Seconds signals may be unreadable before the fallback applies.', {
            minimum: 1,
            maximum: 3600,
            default: 30,
          }),
          replicas: int(
            'Replicas to run while signals stay unreadable. The pool is only ever raised to this, never lowered: a blind scale-down could stop work that is waiting.',
            { minimum: 0, maximum: 10000 },
          ),
        },
        { description: 'What to do when queue signals cannot be read. Without it the pool holds its current size.' },
      ),
    ),
  },
  {
    description: 'How the pool is sized from queue signals.',
    default: {},
    ...withRules([
      {
        rule: 'self.minReplicas <= self.maxReplicas',
        message: 'minReplicas must not exceed maxReplicas',
        fieldPath: '.minReplicas',
      },
      {
        // A looser target than the pool's would never bind: the pool-wide sizing already keeps
        // every queue within targetLatencySeconds.
        rule: '!has(self.queueTargetLatencySeconds) || self.queueTargetLatencySeconds.all(q, self.queueTargetLatencySeconds[q] <= self.targetLatencySeconds)',
        message: 'a queue target must not exceed targetLatencySeconds, which every queue is already sized for',
        fieldPath: '.queueTargetLatencySeconds',
      },
      {
        rule: '!has(self.fallback) || self.fallback.replicas <= self.maxReplicas',
        message: 'fallback.replicas must not exceed maxReplicas',
        fieldPath: '.fallback.replicas',
      },
    ]),
  },
);

export const ScaleTargetRefSchema = Type.Object(
  {
    apiVersion: Type.Optional(oneOf('API version of the target.', ['apps/v1'] as const, 'apps/v1')),
    kind: oneOf('Kind of the target.', ['Deployment'] as const),
    name: text("Name of the Deployment, in the WorkerPool's namespace.", { minLength: 1 }),
  },
  {
    description:
      'Scale an existing Deployment (for example Sidekiq workers deployed by a Helm chart) instead of one built from template. Only its replicas are changed; its pod template is never touched.',
  },
);

/**
 * The pod template's bounds. The template keeps fields as written (x-kubernetes-preserve-unknown-fields),
 * which neither CEL nor OpenAPI can measure, so the API server cannot bound its bytes; these bound
 * what realistic templates grow with (containers, env, args, volumes, labels, annotations) with
 * room to spare, and refuse the outsized with a message naming the field. The operator keeps at
 * most 128 KiB of template per pool whatever else it holds (controller/packed-template.ts).
 */
export const TEMPLATE_BOUNDS = {
  containers: 32,
  volumes: 256,
  envPerContainer: 256,
  envValueLength: 16_384,
  envBytesPerContainer: 65_536,
  argsPerContainer: 256,
  argLength: 16_384,
  labels: 64,
  annotations: 64,
  annotationLength: 16_384,
} as const;

const B = TEMPLATE_BOUNDS;
const kept = (description: string, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
  ...extra,
});
const strings = (description: string, maxItems: number, maxLength: number) => ({
  type: 'array',
  description,
  maxItems,
  items: { type: 'string', description: 'One item.', maxLength },
});
const stringMap = (description: string, maxProperties: number, maxLength: number) => ({
  type: 'object',
  description,
  maxProperties,
  additionalProperties: { type: 'string', maxLength },
});
const containers = (description: string, minItems: number) => ({
  type: 'array',
  description,
  ...(minItems > 0 ? { minItems } : {}),
  maxItems: B.containers,
  items: kept('A Container.', {
    maxProperties: 48,
    properties: {
      command: strings('Entrypoint.', B.argsPerContainer, B.argLength),
      args: strings('Arguments.', B.argsPerContainer, B.argLength),
      env: {
        type: 'array',
        description: 'Environment variables.',
        maxItems: B.envPerContainer,
        items: kept('An EnvVar.', {
          properties: {
            name: { type: 'string', description: 'Name of the variable.', maxLength: 256 },
            value: { type: 'string', description: 'Value of the variable.', maxLength: B.envValueLength },
          },
        }),
      },
    },
    'x-kubernetes-validations': [
      {
        rule: `!has(self.env) || self.env.map(e, has(e.value) ? size(e.value) : 0).sum() <= ${B.envBytesPerContainer}`,
        message: `env values of one container must total at most ${B.envBytesPerContainer} characters`,
        fieldPath: '.env',
      },
    ],
  }),
});

// Only the parts of the PodTemplateSpec the operator relies on, or bounds, are spelled out; the
// rest is kept as written and validated by the API server when the Deployment is applied.
const PodTemplate = Type.Unsafe<V1PodTemplateSpec>({
  type: 'object',
  description:
    'Pod template of the worker Deployment the operator owns (a PodTemplateSpec, as in a Deployment). The operator adds its selector labels and restricted security defaults where the template leaves them unset. At most 128 KiB as JSON.',
  required: ['spec'],
  properties: {
    metadata: kept('Labels and annotations of the worker pods.', {
      maxProperties: 8,
      properties: {
        labels: stringMap('Labels of the worker pods.', B.labels, 63),
        annotations: stringMap('Annotations of the worker pods.', B.annotations, B.annotationLength),
      },
    }),
    spec: kept('A PodSpec for the workers.', {
      required: ['containers'],
      maxProperties: 64,
      properties: {
        containers: containers('Containers of the worker pod; the first runs the worker.', 1),
        initContainers: containers('Init containers of the worker pod.', 0),
        volumes: {
          type: 'array',
          description: 'Volumes of the worker pod.',
          maxItems: B.volumes,
          items: kept('A Volume.', { maxProperties: 8 }),
        },
      },
    }),
  },
});

export const WorkerPoolSpecSchema = Type.Object(
  {
    template: Type.Optional(PodTemplate),
    scaleTargetRef: Type.Optional(ScaleTargetRefSchema),
    queue: QueueSchema,
    scaling: ScalingSchema,
    replicas: Type.Optional(
      int(
        'Manual pin: when set (for example by kubectl scale wp NAME --replicas=3) the pool runs exactly this many replicas and autoscaling is off. Remove it to resume autoscaling. Leave it out of Git for autoscaled pools.',
        {
          minimum: 0,
          maximum: 10000,
        },
      ),
    ),
    paused: Type.Optional(bool('Freeze the pool: replicas stay as they are and no scaling happens.', false)),
    drain: Type.Optional(
      Type.Object(
        {
          enabled: bool(
            "Drain before delete (sidekiq and native formats): before replicas go down, the pods to remove are asked through the queue system itself to stop taking jobs (Sidekiq quiet, the native runtime's drain request), and replicas drop only once each reports no job running or its deadline passes. false removes pods at once (idle-first: the fewest busy first). Formats without a remote quiet (bullmq, list, stream) always use idle-first; the IdleFirstScaleDown condition says which applies.",
            true,
          ),
          deadlineSeconds: Type.Optional(
            int(
              "Longest wait for a quieted pod to finish its jobs before it is removed anyway (counted in workerpool_drain_deadline_exceeded_total and a DrainDeadlineExceeded Event). Default: the pod template's terminationGracePeriodSeconds (Kubernetes' default 30). A grace period shorter than this gets a GracePeriod warning condition.",
              { minimum: 1, maximum: 86400 },
            ),
          ),
        },
        { description: 'How pods leave on scale-down.' },
      ),
    ),
  },
  {
    description: 'Desired state of the WorkerPool.',
    ...withRules([
      {
        rule: 'has(self.template) != has(self.scaleTargetRef)',
        message: 'exactly one of template or scaleTargetRef must be set',
      },
      {
        rule: '!has(self.scaling.queueTargetLatencySeconds) || self.scaling.queueTargetLatencySeconds.all(q, q in self.queue.names)',
        message: 'every key of scaling.queueTargetLatencySeconds must be one of queue.names',
        messageExpression:
          "'queue \"' + self.scaling.queueTargetLatencySeconds.filter(q, !(q in self.queue.names))[0] + '\" is not one of queue.names'",
        fieldPath: '.scaling.queueTargetLatencySeconds',
      },
    ]),
  },
);

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export const ConditionSchema = Type.Object(
  {
    type: text('Type of condition in CamelCase.', { minLength: 1, maxLength: 316 }),
    status: oneOf('Status of the condition.', CONDITION_STATUSES),
    observedGeneration: Type.Optional(int('metadata.generation the condition was set for.', { minimum: 0 })),
    lastTransitionTime: timestamp('Last time the status changed.'),
    reason: text('Machine-readable CamelCase reason for the last transition.', { minLength: 1, maxLength: 1024 }),
    message: text('Human-readable details.', { maxLength: 32768 }),
  },
  { description: 'A metav1.Condition.' },
);

export const QueueStatusSchema = Type.Object(
  {
    depth: Type.Optional(int("Jobs waiting in the pool's queues.")),
    oldestJobAgeSeconds: Type.Optional(
      num('Age of the oldest waiting job, in seconds: the latency the pool is scaled on.'),
    ),
    dueScheduled: Type.Optional(
      int('Scheduled, retry or delayed jobs already due that only a running worker would move into a queue.'),
    ),
    busy: Type.Optional(int('Jobs running now, where the format records it.')),
    concurrency: Type.Optional(int('Total concurrency reported by live workers, where the format records it.')),
    unreadableHeartbeats: Type.Optional(
      int(
        'Live worker heartbeats left out of busy and concurrency because the reader cannot use them (for example a queue-system version it does not know); absent when there are none.',
        { minimum: 1 },
      ),
    ),
    firstUnreadableHeartbeat: Type.Optional(
      text('The first unreadable heartbeat and why, where the format names it (a Sidekiq process identity).', {
        maxLength: 1024,
      }),
    ),
    throughputPerSecond: Type.Optional(
      num('Jobs completed per second over the recent past, where the format counts completions.'),
    ),
    observedAt: Type.Optional(timestamp('When these readings were taken.')),
    stale: Type.Optional(bool('True when the latest read failed and these readings are the last good ones.')),
    latencyUnavailableReason: Type.Optional(
      text('Why the oldest job age cannot be read, when it cannot.', { maxLength: 1024 }),
    ),
  },
  {
    description: `Queue readings as of observedAt. Rewritten together with any change of desiredReplicas or of a condition, and otherwise at most every ${QUEUE_STATUS_REFRESH_SECONDS} s while the readings change; the workerpool_queue_* metrics carry every poll.`,
  },
);

/**
 * status.forecast is the learned arrival pattern (scaling.predictive), kept so that an operator
 * restart does not forget a week of learning. It changes slowly: rewritten with a status write
 * that happens anyway, and otherwise at most this often.
 */
export const FORECAST_STATUS_REFRESH_SECONDS = 900;

export const ForecastStatusSchema = Type.Object(
  {
    learningSince: timestamp('When the model began to learn: it acts (predictive: enabled) only after a day.'),
    savedAt: timestamp('When this copy of the model was written.'),
    day: list(
      'Arrivals per second by 5-minute bucket of the UTC day (288 buckets from 00:00); -1 where none was seen yet.',
      num('Jobs per second, or -1.', { minimum: -1 }),
      { maxItems: 288 },
    ),
    hour: list(
      "Each minute of the hour's arrival rate over its 5-minute bucket's mean (60 values, 1 = even).",
      num('A share.', { minimum: 0 }),
      { maxItems: 60 },
    ),
    error: list(
      'The recent forecast error as two decayed sums: |forecast - actual| and actual, per minute.',
      num('A sum.', { minimum: 0 }),
      { maxItems: 2 },
    ),
  },
  {
    description: `The learned arrival pattern (spec.scaling.predictive shadow or enabled), restored after an operator restart. Written with other status changes, and otherwise at most every ${FORECAST_STATUS_REFRESH_SECONDS} s; the workerpool_forecast_* metrics carry the forecast every poll.`,
  },
);

export const WorkerPoolStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(int('metadata.generation this status describes.', { minimum: 0 })),
    replicas: Type.Optional(int('Replicas of the worker Deployment (the scale subresource reads it).', { minimum: 0 })),
    readyReplicas: Type.Optional(int('Ready replicas of the worker Deployment.', { minimum: 0 })),
    desiredReplicas: Type.Optional(int('Replicas the operator last decided on.', { minimum: 0 })),
    selector: Type.Optional(
      text('Label selector of the worker pods, serialized (the scale subresource reads it).', { maxLength: 4096 }),
    ),
    deploymentName: Type.Optional(text('Name of the Deployment the pool scales.')),
    queue: Type.Optional(QueueStatusSchema),
    forecast: Type.Optional(ForecastStatusSchema),
    lastScaleTime: Type.Optional(timestamp('When the replicas last changed.')),
    lastScaleReason: Type.Optional(
      text(
        'Why the replicas last changed, for example "oldest job 45s > target 30s: 3 -> 8", and which bound held them when one did: a stabilization window, a rate limit, or the queue\'s own capacity ("capped by the queue global concurrency 20").',
        { maxLength: 1024 },
      ),
    ),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        description: 'Ready, Reconciling, Stalled (kstatus) and SignalsAvailable.',
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
  },
  { description: 'Observed state of the WorkerPool.' },
);

export type WorkerPoolSpec = Static<typeof WorkerPoolSpecSchema>;
export type WorkerPoolStatus = Static<typeof WorkerPoolStatusSchema>;
export type QueueSpec = Static<typeof QueueSchema>;
export type RedisEndpointSpec = Static<typeof RedisEndpointSchema>;
export type ScalingSpec = Static<typeof ScalingSchema>;
export type ScaleRules = ScalingSpec['scaleUp'];
export type ScaleTargetRef = Static<typeof ScaleTargetRefSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type QueueStatus = Static<typeof QueueStatusSchema>;
export type ForecastStatus = Static<typeof ForecastStatusSchema>;

export interface WorkerPool {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: V1ObjectMeta;
  spec: WorkerPoolSpec;
  status?: WorkerPoolStatus;
}
