import { Observable, type ConfigurationOptions, type ObservableMiddleware } from '@kubernetes/client-node';

/**
 * Request options that tie an API request to `signal`: when it aborts, a request in flight is
 * abandoned (its connection closed) and one not yet sent fails at once without leaving the
 * process. client-node 2.0 has no per-call timeout or signal parameter; its middleware can set one.
 */
export function withSignal(
  signal: AbortSignal,
  options?: ConfigurationOptions<ObservableMiddleware>,
): ConfigurationOptions<ObservableMiddleware> {
  const abortable: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { ...options, middleware: [...(options?.middleware ?? []), abortable], middlewareMergeStrategy: 'append' };
}
