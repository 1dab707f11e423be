import type { AgentOptions } from 'node:https';
import { KubeConfig, type Cluster, type DispatcherOptions, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * @kubernetes/client-node 2.0 builds a new undici Agent for every API request, so each request
 * opened a TLS connection of its own (a full handshake) and kept none alive: at 1,000 busy pools
 * that was the largest part of the operator's CPU. This KubeConfig gives every request and watch
 * one shared dispatcher while the connection settings (server, CA, client certificate) stay the
 * same, and starts a new one when they change, e.g. when an exec plugin rotates the certificate.
 */
export class ConnectionReusingKubeConfig extends KubeConfig {
  #settingsOfLatest: string | undefined;
  #shared: { settings: string; dispatcher: Dispatcher } | undefined;

  override createDispatcherOptions(cluster: Cluster | null, agentOptions: AgentOptions): DispatcherOptions {
    const options = super.createDispatcherOptions(cluster, agentOptions);
    this.#settingsOfLatest = fingerprint(options);
    return options;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    const settings = this.#settingsOfLatest;
    if (!fresh || settings === undefined) return;
    // The fresh one never connected: it holds no socket and no timer, so dropping it frees it
    // (closing it would cost an Error with a stack trace per request).
    if (this.#shared?.settings === settings) {
      context.setDispatcher(this.#shared.dispatcher);
      return;
    }
    // Requests in flight (watches too) finish on the old dispatcher; close() waits for them.
    void this.#shared?.dispatcher.close();
    this.#shared = { settings, dispatcher: fresh };
  }
}

/** Everything a dispatcher was built from, as one comparable string (certificates included). */
function fingerprint(options: DispatcherOptions): string {
  const tls = options.type === 'agent' ? options.connect : options.type === 'none' ? {} : options.requestTls;
  const uri = options.type === 'proxy' || options.type === 'socks' ? options.uri : '';
  return JSON.stringify([
    options.type,
    uri,
    ...Object.entries(tls)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => [key, String(value)]),
  ]);
}
