// A real Kubernetes control plane for Ballast's e2e tests, from the binaries that build.sh makes:
// etcd -> kube-apiserver -> kube-controller-manager + kube-scheduler + kwok (fake nodes and pods).
// Node built-ins only. Everything listens on 127.0.0.1; every PID is recorded in <runDir>/pids and stop()
// signals exactly those PIDs. See README.md beside this file.
//
// CLI (through tsx):  tsx test/cluster/cluster.ts up BIN_DIR [--nodes N] [--run-dir DIR]
//                     tsx test/cluster/cluster.ts down RUN_DIR
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface ClusterOptions {
  /** Directory with etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (build.sh prints it). */
  binDir: string;
  /** kwok nodes to create (default 3). Named kwok-node-0 .. kwok-node-(N-1). */
  nodes?: number;
  /** Capacity and allocatable of each node (defaults "4", "16Gi", 110). */
  nodeCpu?: string;
  nodeMemory?: string;
  nodePods?: number;
  /** Where logs, pids, certs, kubeconfigs and the etcd data go (default: a new dir under os.tmpdir()). */
  runDir?: string;
  /** Give up if the whole start takes longer (default 120 s). */
  timeoutMs?: number;
  /** Put the components in their own process group so they outlive the caller (for the `up` CLI). Default false. */
  detached?: boolean;
  /**
   * kwok config file(s) with the Stage objects that drive fake nodes and pods (default: <binDir>/kwok-stages.yaml,
   * upstream's "fast" stages: nodes Ready at once, pods Running/Ready at once). Pass your own for delays/failures.
   */
  kwokConfig?: string[];
  /** Progress messages (default: none). */
  log?: (msg: string) => void;
}

export interface StopOptions {
  /** Also delete the run dir after every process is gone (default false: logs are kept). */
  removeRunDir?: boolean;
  /** Wait this long after SIGTERM before SIGKILL, per step (default 10 s). */
  graceMs?: number;
}

export interface Cluster {
  runDir: string;
  /** Admin kubeconfig (token user in system:masters, CA embedded). */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin static bearer token (group system:masters). */
  token: string;
  /** PEM of the apiserver's self-signed serving certificate chain (trust it as CA). */
  caPem: string;
  /** Names of the kwok nodes created at start. */
  nodeNames: string[];
  /** PID of each component, by name: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok. */
  pids: Record<string, number>;
  stop(opts?: StopOptions): Promise<void>;
}

/** Start order; stop goes the other way. */
const COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;
type Component = (typeof COMPONENTS)[number];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

/** The last `lines` lines of a file, or "" if it can't be read. */
export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** A Node object that kwok will manage: capacity set, labels type=kwok, no taints. */
export function kwokNodeManifest(
  name: string,
  capacity: { cpu?: string; memory?: string; pods?: number } = {},
  labels: Record<string, string> = {},
): Record<string, unknown> {
  const res = {
    cpu: capacity.cpu ?? "4",
    memory: capacity.memory ?? "16Gi",
    pods: String(capacity.pods ?? 110),
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      // kwok's own marker for fake nodes; kwok runs with --manage-all-nodes, so it is informative only.
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        ...labels,
      },
    },
    // No spec.taints: the cluster has no real nodes, so ordinary pods must schedule here.
    status: { capacity: res, allocatable: res },
  };
}

interface Resp {
  status: number;
  body: string;
}

/** One HTTP(S) request; resolves on any status, rejects on network errors or timeout. */
function fetchRaw(
  url: string,
  opts: { method?: string; token?: string; ca?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<Resp> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
  }
  return new Promise((resolveResp, reject) => {
    const common = { method: opts.method ?? "GET", headers, timeout: opts.timeoutMs ?? 5000 };
    const onRes = (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolveResp({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    };
    const req =
      u.protocol === "https:"
        ? httpsRequest(
            u,
            // Without a CA (component /healthz probes before it matters), skip verification: loopback only.
            opts.ca ? { ...common, ca: opts.ca } : { ...common, rejectUnauthorized: false },
            onRes,
          )
        : httpRequest(u, common, onRes);
    req.on("timeout", () => req.destroy(new Error(`timeout: ${opts.method ?? "GET"} ${url}`)));
    req.on("error", reject);
    req.end(payload);
  });
}

function writeKubeconfig(path: string, server: string, caPem: string, user: string, token: string): void {
  const ca = Buffer.from(caPem).toString("base64");
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: ballast-test",
      "  cluster:",
      `    server: ${server}`,
      `    certificate-authority-data: ${ca}`,
      "users:",
      `- name: ${user}`,
      "  user:",
      `    token: ${token}`,
      "contexts:",
      "- name: ballast-test",
      "  context:",
      "    cluster: ballast-test",
      `    user: ${user}`,
      "current-context: ballast-test",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
}

function readPids(runDir: string): Array<[string, number]> {
  let text: string;
  try {
    text = readFileSync(join(runDir, "pids"), "utf8");
  } catch {
    return [];
  }
  const out: Array<[string, number]> = [];
  for (const line of text.split("\n")) {
    const [name, pid] = line.trim().split(/\s+/);
    const n = Number(pid);
    if (name && Number.isInteger(n) && n > 0) out.push([name, n]);
  }
  return out;
}

/** True if `pid` is alive and is one of ours: its command line mentions the run dir (guards against PID reuse). */
function isOurs(pid: number, runDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // A zombie (state Z) has exited; it only waits for its parent to reap it.
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    return cmdline.includes(runDir);
  } catch {
    return false;
  }
}

async function killAndWait(pids: number[], runDir: string, graceMs: number): Promise<void> {
  const live = () => pids.filter((p) => isOurs(p, runDir));
  for (const p of live()) {
    try {
      process.kill(p, "SIGTERM");
    } catch {}
  }
  const deadline = Date.now() + graceMs;
  while (live().length > 0 && Date.now() < deadline) await sleep(100);
  const rest = live();
  for (const p of rest) {
    try {
      process.kill(p, "SIGKILL");
    } catch {}
  }
  const killDeadline = Date.now() + 5000;
  while (live().length > 0 && Date.now() < killDeadline) await sleep(50);
}

/**
 * Stops every process recorded in <runDir>/pids (SIGTERM, then SIGKILL after the grace period): first kwok,
 * the scheduler and the controller-manager, then the apiserver, then etcd. Works from any process.
 */
export async function stopClusterFromRunDir(runDir: string, opts: StopOptions = {}): Promise<void> {
  const dir = resolve(runDir);
  const graceMs = opts.graceMs ?? 10_000;
  const recorded = readPids(dir);
  const byName = (names: string[]) => recorded.filter(([n]) => names.includes(n)).map(([, p]) => p);
  const known = new Set<string>(COMPONENTS);
  const steps = [
    [
      ...byName(["kwok", "kube-scheduler", "kube-controller-manager"]),
      ...recorded.filter(([n]) => !known.has(n)).map(([, p]) => p),
    ],
    byName(["kube-apiserver"]),
    byName(["etcd"]),
  ];
  for (const pids of steps) if (pids.length > 0) await killAndWait(pids, dir, graceMs);
  const survivors = recorded.filter(([, p]) => isOurs(p, dir));
  if (survivors.length > 0) {
    throw new Error(`processes survived SIGKILL: ${survivors.map(([n, p]) => `${n}=${p}`).join(", ")}`);
  }
  if (opts.removeRunDir) rmSync(dir, { recursive: true, force: true });
}

class Starter {
  readonly procs = new Map<Component, ChildProcess>();
  readonly exits = new Map<Component, string>();
  readonly pids: Record<string, number> = {};

  constructor(
    readonly runDir: string,
    readonly binDir: string,
    readonly detached: boolean,
  ) {}

  logPath(name: Component): string {
    return join(this.runDir, `${name}.log`);
  }

  start(name: Component, bin: string, args: string[], env: Record<string, string> = {}): void {
    const fd = openSync(this.logPath(name), "a");
    writeFileSync(fd, `\n=== ${new Date().toISOString()} ${bin} ${args.join(" ")}\n`);
    let child: ChildProcess;
    try {
      child = spawn(join(this.binDir, bin), args, {
        cwd: this.runDir,
        env: { ...process.env, ...env },
        stdio: ["ignore", fd, fd],
        detached: this.detached,
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${bin} from ${this.binDir}`);
    this.procs.set(name, child);
    this.exits.delete(name);
    this.pids[name] = child.pid;
    writeFileSync(
      join(this.runDir, "pids"),
      Object.entries(this.pids)
        .map(([n, p]) => `${n} ${p}\n`)
        .join(""),
    );
    child.on("exit", (code, signal) =>
      this.exits.set(name, signal ? `signal ${signal}` : `exit code ${code}`),
    );
    child.on("error", (e) => this.exits.set(name, `spawn error: ${e.message}`));
    child.unref(); // the caller's event loop must not wait for the cluster
  }

  /** Throws, with the tail of the log, if the component has died. */
  check(name: Component): void {
    const how = this.exits.get(name);
    if (how !== undefined) {
      throw new ComponentDied(
        name,
        `${name} died during startup (${how}); last lines of ${this.logPath(name)}:\n${logTail(this.logPath(name))}`,
      );
    }
  }

  /** Components being (re)started by launch(); only launch() itself watches them. */
  private readonly launching = new Set<Component>();
  launchingAdd(n: Component): void {
    this.launching.add(n);
  }
  launchingDelete(n: Component): void {
    this.launching.delete(n);
  }

  checkAll(self?: Component): void {
    for (const n of this.procs.keys()) if (n === self || !this.launching.has(n)) this.check(n);
  }

  /** Polls `probe` until true; fails early if a started component dies. */
  async waitFor(
    what: string,
    deadline: number,
    probe: () => Promise<boolean>,
    self?: Component,
  ): Promise<void> {
    let last = "";
    for (;;) {
      this.checkAll(self);
      try {
        if (await probe()) return;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      this.checkAll(self);
      if (Date.now() > deadline) {
        const logs = [...this.procs.keys()]
          .map((n) => `--- ${n}.log:\n${logTail(this.logPath(n), 15)}`)
          .join("\n");
        throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ""}\n${logs}`);
      }
      await sleep(200);
    }
  }
}

interface Launch {
  args: string[];
  env?: Record<string, string>;
  ready: () => Promise<boolean>;
}

/** Starts `name` with the args from `make` (called per attempt, so it can pick fresh ports) and waits for
 * `ready`. Between probing a free port and binding it another process may take it: then it retries, twice. */
async function launch(
  st: Starter,
  name: Component,
  deadline: number,
  log: (m: string) => void,
  make: () => Promise<Launch>,
): Promise<void> {
  st.launchingAdd(name);
  try {
    for (let attempt = 1; ; attempt++) {
      const l = await make();
      st.start(name, name, l.args, l.env);
      try {
        await st.waitFor(`${name} to be ready`, deadline, l.ready, name);
        return;
      } catch (e) {
        const portTaken =
          e instanceof ComponentDied &&
          e.component === name &&
          ADDR_IN_USE.test(logTail(st.logPath(name), 10));
        if (!portTaken || attempt >= 3) throw e;
        log(`${name}: port taken, retrying (${attempt})`);
      }
    }
  } finally {
    st.launchingDelete(name);
  }
}

class ComponentDied extends Error {
  constructor(
    readonly component: Component,
    message: string,
  ) {
    super(message);
  }
}

const ADDR_IN_USE = /address already in use|bind: address/i;

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok from `binDir`, creates the kwok
 * nodes, and resolves once the nodes are Ready and the default ServiceAccount exists. On failure everything
 * started is stopped again and the error carries the tail of the failing component's log.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const binDir = resolve(opts.binDir);
  const kwokConfig = (opts.kwokConfig ?? [join(binDir, "kwok-stages.yaml")]).map((f) => resolve(f));
  for (const f of [...COMPONENTS.map((b) => join(binDir, b)), ...kwokConfig]) {
    if (!existsSync(f)) throw new Error(`${f} not found; run test/cluster/build.sh`);
  }
  const runDir = resolve(opts.runDir ?? mkdtempSync(join(tmpdir(), "ballast-k8s-")));
  mkdirSync(runDir, { recursive: true });
  if (readPids(runDir).some(([, p]) => isOurs(p, runDir))) {
    throw new Error(`a cluster is still running in ${runDir}; stop it first`);
  }
  const log = opts.log ?? (() => {});
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const st = new Starter(runDir, binDir, opts.detached ?? false);
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

  try {
    // ---- credentials ----
    const pki = join(runDir, "pki");
    mkdirSync(pki, { recursive: true });
    const saKey = join(pki, "sa.key");
    if (!existsSync(saKey)) {
      execFileSync("openssl", ["genrsa", "-out", saKey, "2048"], { stdio: ["ignore", "ignore", "pipe"] });
    }
    const tok = () => randomBytes(24).toString("hex");
    const token = tok();
    const kcmToken = tok();
    const schedToken = tok();
    const kwokToken = tok();
    // token,user,uid,"groups". KCM and the scheduler get their bootstrap RBAC identities (KCM runs its
    // controllers under per-controller ServiceAccounts); kwok fakes kubelets, which RBAC has no role for.
    writeFileSync(
      join(pki, "tokens.csv"),
      [
        `${token},ballast-admin,ballast-admin,"system:masters"`,
        `${kcmToken},system:kube-controller-manager,system:kube-controller-manager`,
        `${schedToken},system:kube-scheduler,system:kube-scheduler`,
        `${kwokToken},ballast-kwok,ballast-kwok,"system:masters"`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );

    // ---- etcd ----
    const etcdData = join(runDir, "etcd");
    let etcdPort = 0;
    await launch(st, "etcd", deadline, log, async () => {
      rmSync(etcdData, { recursive: true, force: true }); // a fresh store each run (no stale leases/objects)
      const port = await freePort();
      const peer = await freePort();
      etcdPort = port;
      return {
        args: [
          "--name=ballast",
          `--data-dir=${etcdData}`,
          `--listen-client-urls=http://127.0.0.1:${port}`,
          `--advertise-client-urls=http://127.0.0.1:${port}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=ballast=http://127.0.0.1:${peer}`,
          "--unsafe-no-fsync=true", // test data only: no fsync, much faster writes
          "--log-level=warn",
        ],
        ready: async () => {
          const r = await fetchRaw(`http://127.0.0.1:${port}/health`, { timeoutMs: 2000 });
          return r.status === 200 && r.body.includes('"true"');
        },
      };
    });
    log(`etcd ready on ${etcdPort} after ${since()}`);

    // ---- kube-apiserver ----
    const certDir = join(pki, "apiserver");
    rmSync(certDir, { recursive: true, force: true }); // the serving cert is regenerated for the new port/run
    let apiPort = 0;
    await launch(st, "kube-apiserver", deadline, log, async () => {
      const port = await freePort();
      apiPort = port;
      return {
        args: [
          `--etcd-servers=http://127.0.0.1:${etcdPort}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${port}`,
          // Loopback advertise address + no endpoint reconciler: deterministic whatever the host's network
          // (no default route needed), and the `kubernetes` Endpoints never gets the loopback IP it rejects.
          "--advertise-address=127.0.0.1",
          "--endpoint-reconciler-type=none",
          `--cert-dir=${certDir}`,
          `--token-auth-file=${join(pki, "tokens.csv")}`,
          "--authorization-mode=RBAC",
          "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
          `--service-account-key-file=${saKey}`,
          `--service-account-signing-key-file=${saKey}`,
          "--service-cluster-ip-range=10.96.0.0/16",
          "--allow-privileged=true",
          "--profiling=false",
          "--v=1",
        ],
        ready: async () =>
          (await fetchRaw(`https://127.0.0.1:${port}/readyz`, { token, timeoutMs: 3000 })).status === 200,
      };
    });
    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = join(certDir, "apiserver.crt"); // leaf + its self-signed CA, written by --cert-dir
    const caPem = readFileSync(caFile, "utf8");
    const api = (method: string, path: string, body?: unknown) =>
      fetchRaw(`${server}${path}`, { method, token, ca: caPem, body, timeoutMs: 10_000 });
    // TLS against the generated cert must verify (it is what clients using the kubeconfig will do).
    const v = await api("GET", "/version");
    if (v.status !== 200) throw new Error(`GET /version: ${v.status} ${v.body}`);
    log(`kube-apiserver ready on ${apiPort} (${JSON.parse(v.body).gitVersion}) after ${since()}`);

    const kubeconfigPath = join(runDir, "kubeconfig");
    writeKubeconfig(kubeconfigPath, server, caPem, "ballast-admin", token);
    const kcmKubeconfig = join(runDir, "kube-controller-manager.kubeconfig");
    writeKubeconfig(kcmKubeconfig, server, caPem, "system:kube-controller-manager", kcmToken);
    const schedKubeconfig = join(runDir, "kube-scheduler.kubeconfig");
    writeKubeconfig(schedKubeconfig, server, caPem, "system:kube-scheduler", schedToken);
    const kwokKubeconfig = join(runDir, "kwok.kubeconfig");
    writeKubeconfig(kwokKubeconfig, server, caPem, "ballast-kwok", kwokToken);

    // ---- kwok, controller-manager, scheduler (in parallel) ----
    const healthz = (port: number) => async () =>
      (await fetchRaw(`https://127.0.0.1:${port}/healthz`, { timeoutMs: 2000 })).status === 200;
    const kwokHome = join(runDir, "kwok-home");
    mkdirSync(kwokHome, { recursive: true });
    st.start(
      "kwok",
      "kwok",
      [
        `--kubeconfig=${kwokKubeconfig}`,
        "--manage-all-nodes=true",
        "--node-lease-duration-seconds=40",
        "--cidr=10.244.0.0/16",
        "--node-ip=127.0.0.1",
        // kwok v0.8.0 has no built-in stages: without a config it exits with "no stages found".
        ...kwokConfig.map((f) => `--config=${f}`),
      ],
      // kwok always loads $KWOK_WORKDIR/kwok.yaml (default ~/.kwok) first: keep it per run.
      { KWOK_WORKDIR: kwokHome },
    );
    await Promise.all([
      launch(st, "kube-controller-manager", deadline, log, async () => {
        const port = await freePort();
        return {
          args: [
            `--kubeconfig=${kcmKubeconfig}`,
            "--bind-address=127.0.0.1",
            `--secure-port=${port}`,
            `--cert-dir=${join(pki, "kube-controller-manager")}`,
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            `--service-account-private-key-file=${saKey}`,
            `--root-ca-file=${caFile}`,
            // all default controllers: deployment, replicaset, statefulset, garbage-collector, serviceaccount,
            // serviceaccount-token, namespace, node-lifecycle, podgc, job, ... (the built-in HPA only acts on
            // HorizontalPodAutoscaler objects).
            "--controllers=*",
            // Each controller starts under its own ServiceAccount (a lookup + TokenRequest); the default client
            // rate limit (20 qps) made the default ServiceAccount appear ~5 s later.
            "--kube-api-qps=200",
            "--kube-api-burst=400",
            "--profiling=false",
            "--v=1",
          ],
          ready: healthz(port),
        };
      }),
      launch(st, "kube-scheduler", deadline, log, async () => {
        const port = await freePort();
        return {
          args: [
            `--kubeconfig=${schedKubeconfig}`,
            "--bind-address=127.0.0.1",
            `--secure-port=${port}`,
            `--cert-dir=${join(pki, "kube-scheduler")}`,
            "--leader-elect=false",
            "--profiling=false",
            "--v=1",
          ],
          ready: healthz(port),
        };
      }),
    ]);
    log(`controller-manager and scheduler healthy after ${since()}`);

    // ---- kwok nodes ----
    const n = opts.nodes ?? 3;
    const nodeNames = Array.from({ length: n }, (_, i) => `kwok-node-${i}`);
    for (const name of nodeNames) {
      const r = await api(
        "POST",
        "/api/v1/nodes",
        kwokNodeManifest(name, { cpu: opts.nodeCpu, memory: opts.nodeMemory, pods: opts.nodePods }),
      );
      if (r.status !== 201) throw new Error(`creating node ${name}: ${r.status} ${r.body}`);
    }
    await st.waitFor(`${n} kwok nodes Ready`, deadline, async () => {
      const r = await api("GET", "/api/v1/nodes?labelSelector=type%3Dkwok");
      if (r.status !== 200) return false;
      const items = JSON.parse(r.body).items as Array<{
        metadata: { name: string };
        status?: { conditions?: Array<{ type: string; status: string }> };
      }>;
      const ready = items.filter((it) =>
        it.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return nodeNames.every((nm) => ready.some((it) => it.metadata.name === nm));
    });
    log(`${n} kwok nodes Ready after ${since()}`);
    // KCM's serviceaccount controller creates it; pods in a namespace need it before they can be created.
    await st.waitFor("default ServiceAccount", deadline, async () => {
      return (await api("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200;
    });
    log(`cluster up in ${since()}: ${server}, kubeconfig ${kubeconfigPath}`);

    writeFileSync(
      join(runDir, "env"),
      `export KUBECONFIG=${kubeconfigPath}\nexport BALLAST_K8S_RUN_DIR=${runDir}\nexport BALLAST_K8S_SERVER=${server}\n`,
    );
    return {
      runDir,
      kubeconfigPath,
      server,
      token,
      caPem,
      nodeNames,
      pids: { ...st.pids },
      stop: (o?: StopOptions) => stopClusterFromRunDir(runDir, o),
    };
  } catch (e) {
    await stopClusterFromRunDir(runDir, { graceMs: 3000 }).catch(() => {});
    throw e;
  }
}

// ---- CLI: `tsx cluster.ts up BIN_DIR [--nodes N] [--run-dir DIR]` / `tsx cluster.ts down RUN_DIR` ----
async function main(argv: string[]): Promise<void> {
  const [cmd, target, ...rest] = argv;
  const flag = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  if (cmd === "up" && target) {
    const c = await startCluster({
      binDir: target,
      nodes: flag("--nodes") ? Number(flag("--nodes")) : undefined,
      runDir: flag("--run-dir"),
      detached: true,
      log: (m) => process.stderr.write(`[cluster] ${m}\n`),
    });
    process.stdout.write(`${c.runDir}\n`);
  } else if (cmd === "down" && target) {
    if (!existsSync(target) || !statSync(target).isDirectory() || !readdirSync(target).includes("pids")) {
      throw new Error(`${target} is not a cluster run dir (no pids file)`);
    }
    await stopClusterFromRunDir(target, { removeRunDir: rest.includes("--rm") });
  } else {
    process.stderr.write("usage: cluster.ts up BIN_DIR [--nodes N] [--run-dir DIR] | down RUN_DIR [--rm]\n");
    process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
