import { Backoff } from "@ballast/proto";
import {
  type CoreV1Api,
  type Informer,
  type KubeConfig,
  makeInformer,
  type ObjectCache,
  type V1Pod,
} from "@kubernetes/client-node";

/**
 * A watched set of pods (one namespace, one label selector) kept in a local cache by an informer. The
 * client's informer stops on an error, so this restarts it with jittered backoff; after a clean end of
 * a watch it resumes by itself, and after 410 Gone it lists again.
 */
export class PodWatch {
  private readonly informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  private stopped = false;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 10_000, factor: 2 });
  private retry: NodeJS.Timeout | undefined;
  /** Set once the first list has filled the cache. */
  synced = false;

  constructor(
    kc: KubeConfig,
    core: CoreV1Api,
    readonly namespace: string,
    readonly selector: string,
    private readonly log: (line: string) => void,
    onChange: () => void = () => {},
  ) {
    this.informer = makeInformer(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: selector }),
      selector,
    );
    // "connect" comes before the list; `synced` is set once start() has listed.
    this.informer.on("connect", () => this.backoff.reset());
    for (const verb of ["add", "update", "delete"] as const) this.informer.on(verb, onChange);
    this.informer.on("error", (err) => {
      if (this.stopped) return;
      const delay = this.backoff.nextDelayMs();
      this.log(
        `pods ${namespace} (${selector}): watch failed (${(err as Error)?.message ?? err}); restarting in ${delay} ms`,
      );
      this.retry = setTimeout(() => void this.start(), delay);
    });
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.informer.start();
      this.synced = true;
    } catch {
      // The error event above schedules the restart.
    }
  }

  pods(): readonly V1Pod[] {
    return this.informer.list(this.namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }
}
