// fetchHistory against a real Prometheus whose TSDB was backfilled with a known seasonal series, plus
// the failures a start-up history read must report clearly: bad settings, refused connections,
// silence, and answers that are not Prometheus'.
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forecastFromHistory } from "../../controller/src/metrics/forecast-history.js";
import {
  fetchHistory,
  type HistoryQuery,
  MAX_STEPS_PER_REQUEST,
  PrometheusHistoryError,
} from "../../controller/src/metrics/prometheus-history.js";
import { freePort } from "../support/processes.js";
import { type PrometheusServer, prometheusMissing, startPrometheus } from "../support/prometheus.js";

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/** The backfilled demand of `workload` at Unix second `t`: a daily and an hourly wave, 3 decimals. */
function demand(t: number, workload: "web" | "api"): number {
  const x = 100 + 40 * Math.sin((2 * Math.PI * t) / DAY) + 15 * Math.sin((2 * Math.PI * t) / HOUR);
  const v = Math.round(x * 1000) / 1000;
  return workload === "web" ? v : Math.round(v * 500) / 1000;
}

/**
 * `ballast_pod_demand` moves from pod a to pod b where the first chunk of a 20 s fetch ends: pod a's
 * last sample is out of Prometheus' 5 min look-back before the second chunk starts, and pod b's first
 * comes after the first chunk's last point, so each chunk holds one series and only their sum is two.
 */
const CHUNK_BORDER = MAX_STEPS_PER_REQUEST * 20;
const POD_A_LAST = Math.floor((CHUNK_BORDER - 5 * MINUTE - 1) / MINUTE) * MINUTE;
const POD_B_FIRST = Math.ceil(CHUNK_BORDER / MINUTE) * MINUTE;

/**
 * OpenMetrics text, one sample a minute over [from, to] (Unix seconds): both workloads' demand, and a
 * per-pod demand whose pod label changes once, so that each half of the range holds a different series.
 */
function openMetrics(from: number, to: number): string {
  const lines = [
    "# HELP ballast_demand Requests per second offered to a workload.",
    "# TYPE ballast_demand gauge",
  ];
  for (const w of ["web", "api"] as const)
    for (let t = from; t <= to; t += MINUTE)
      lines.push(`ballast_demand{workload="${w}"} ${demand(t, w)} ${t}`);
  lines.push(
    "# HELP ballast_pod_demand Requests per second offered to one pod.",
    "# TYPE ballast_pod_demand gauge",
  );
  for (const pod of ["a", "b"])
    for (let t = from; t <= to; t += MINUTE)
      if (pod === "a" ? t <= from + POD_A_LAST : t >= from + POD_B_FIRST)
        lines.push(`ballast_pod_demand{pod="${pod}"} 1 ${t}`);
  lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

async function failure(q: HistoryQuery): Promise<PrometheusHistoryError> {
  try {
    await fetchHistory(q);
  } catch (e) {
    expect(e).toBeInstanceOf(PrometheusHistoryError);
    return e as PrometheusHistoryError;
  }
  throw new Error(`fetchHistory(${JSON.stringify(q.query)}) succeeded; expected an error`);
}

const missing = prometheusMissing();
// CI sets BALLAST_REQUIRE_PROMETHEUS: there a missing Prometheus is a failed test, not a skipped tier.
const required = Boolean(process.env.BALLAST_REQUIRE_PROMETHEUS);
if (missing && !required)
  process.stderr.write(
    `prometheus-history: real-Prometheus tests SKIPPED: ${missing}; BALLAST_REQUIRE_PROMETHEUS=1 makes this a failure\n`,
  );

// Only defined when it fails, so a normal run counts no extra skipped test.
if (missing && required)
  describe("a real Prometheus", () => {
    it("is installed, as BALLAST_REQUIRE_PROMETHEUS requires", () => {
      throw new Error(`BALLAST_REQUIRE_PROMETHEUS is set but ${missing}`);
    });
  });

describe.skipIf(missing !== undefined)(
  missing ? `against a real Prometheus (SKIPPED: ${missing})` : "against a real Prometheus",
  () => {
    let prom: PrometheusServer | undefined;
    // Three days of history ending two hours ago, on whole minutes (Unix seconds).
    const dataEnd = Math.floor(Date.now() / 1000 / MINUTE) * MINUTE - 2 * HOUR;
    const dataStart = dataEnd - 3 * DAY;
    const ms = (s: number) => s * 1000;
    const at = (q: Partial<HistoryQuery>): HistoryQuery => ({
      url: prom?.url ?? "",
      query: 'ballast_demand{workload="web"}',
      start: ms(dataStart),
      end: ms(dataEnd),
      stepSeconds: MINUTE,
      field: "predictive.history",
      ...q,
    });

    beforeAll(async () => {
      prom = await startPrometheus({ openMetrics: openMetrics(dataStart, dataEnd) });
    });

    afterAll(async () => {
      if (!prom) return;
      const pid = prom.pid;
      await prom.stop();
      // Nothing of the run is left behind.
      expect(() => process.kill(pid, 0)).toThrow();
    });

    it("returns exactly the backfilled values, in order, at the step asked for", async () => {
      const start = dataEnd - 6 * HOUR;
      const got = await fetchHistory(at({ start: ms(start) }));
      const ts = Array.from({ length: 6 * 60 + 1 }, (_, i) => start + i * MINUTE);
      expect(got.t).toEqual(ts.map(ms));
      expect(got.v).toEqual(ts.map((t) => demand(t, "web")));

      // Coarser than the data: each point is the sample at that instant.
      const coarse = await fetchHistory(at({ stepSeconds: 15 * MINUTE }));
      expect(coarse.t.length).toBe((3 * DAY) / (15 * MINUTE) + 1);
      coarse.t.forEach((t, i) => {
        expect(t).toBe(ms(dataStart + i * 15 * MINUTE));
        expect(coarse.v[i]).toBe(demand(t / 1000, "web"));
      });
    });

    it("warms a workload's forecast with its history, ready to act once the history ends", async () => {
      const spec = {
        maxReplicas: 20,
        metrics: [
          {
            type: "Signal" as const,
            signal: { name: "rps", target: { type: "AverageValue" as const, averageValue: "10" } },
          },
        ],
        predictive: {
          bucketSeconds: 300,
          weekly: false,
          history: { prometheus: { query: 'ballast_demand{workload="web"}', lookbackDays: 3 } },
        },
      };
      // As if the controller started right after the data ends.
      const { forecast, points, days } = await forecastFromHistory(
        spec,
        prom?.url ?? "",
        ms(dataEnd + MINUTE),
        "spec.predictive.history.prometheus",
      );
      expect(days).toBe(3);
      expect(points).toBe(3 * 24 * 60 + 1);
      const status = forecast.status(ms(dataEnd + MINUTE));
      expect(status.state).toBe("Active");
      expect(status.mape).toBeLessThan(5);
      // Demand is in req/s; the forecast in the metric's milli-units, near the coming 10 minutes' peak.
      let peak = 0;
      for (let t = dataEnd; t <= dataEnd + 600; t += 10) peak = Math.max(peak, demand(t, "web"));
      expect(Math.abs((status.forecast as number) / 1000 - peak) / peak).toBeLessThan(0.1);
      const failed = await forecastFromHistory(
        { ...spec, predictive: { ...spec.predictive, history: { prometheus: { query: "sum(" } } } },
        prom?.url ?? "",
        ms(dataEnd),
        "spec.predictive.history.prometheus",
      ).catch((e: Error) => e.message);
      expect(failed).toMatch(/^spec\.predictive\.history\.prometheus\.query: .*parse error/);
    });

    it("gives no points, not zeros, where there is no data", async () => {
      // The hour before the data starts is absent; the series begins at its first sample.
      const edge = await fetchHistory(at({ start: ms(dataStart - HOUR), end: ms(dataStart + 10 * MINUTE) }));
      expect(edge.t[0]).toBe(ms(dataStart));
      expect(edge.t.length).toBe(11);
      expect(edge.v[0]).toBe(demand(dataStart, "web"));

      expect(await fetchHistory(at({ query: 'ballast_demand{workload="none"}' }))).toEqual({ t: [], v: [] });
      // Prometheus sends NaN and +Inf as strings; they are gaps.
      expect(await fetchHistory(at({ query: "vector(0) / 0" }))).toEqual({ t: [], v: [] });
      const web = 'ballast_demand{workload="web"}';
      const gaps = await fetchHistory(
        at({ start: ms(dataEnd - DAY), query: `${web} / (${web} > bool 110)` }),
      );
      const want = Array.from({ length: 24 * 60 + 1 }, (_, i) => dataEnd - DAY + i * MINUTE).filter(
        (t) => demand(t, "web") > 110,
      );
      expect(want.length).toBeGreaterThan(100);
      expect(want.length).toBeLessThan(24 * 60);
      expect(gaps.t).toEqual(want.map(ms));
      expect(gaps.v).toEqual(want.map((t) => demand(t, "web")));
    });

    it("fetches more than 11,000 steps in chunks, identical to fetching the range in direct pieces", async () => {
      const step = 20; // 3 days at 20 s: 12,961 points
      const points = (3 * DAY) / step + 1;
      expect(points).toBeGreaterThan(11_000);

      // One request for the whole range is refused by Prometheus itself.
      const form = new URLSearchParams({
        query: 'ballast_demand{workload="web"}',
        start: String(dataStart),
        end: String(dataEnd),
        step: String(step),
      });
      const direct = await fetch(`${prom?.url}/api/v1/query_range`, { method: "POST", body: form });
      expect(direct.status).toBe(400);
      expect(await direct.text()).toMatch(/11,000 points/);

      const chunked = await fetchHistory(at({ stepSeconds: step }));
      expect(chunked.t.length).toBe(points);
      chunked.t.forEach((t, i) => {
        expect(t).toBe(ms(dataStart + i * step));
        // Between samples Prometheus gives the latest one at or before t.
        expect(chunked.v[i]).toBe(demand(Math.floor(t / 1000 / MINUTE) * MINUTE, "web"));
      });

      // Two pieces of fewer than 10,000 points are one request each; they split where no chunk does.
      const cut = dataStart + 6000 * step;
      const first = await fetchHistory(at({ stepSeconds: step, end: ms(cut - step) }));
      const second = await fetchHistory(at({ stepSeconds: step, start: ms(cut) }));
      expect(chunked).toEqual({ t: [...first.t, ...second.t], v: [...first.v, ...second.v] });
    });

    it("refuses a query that returns several series, and says how to aggregate", async () => {
      const e = await failure(at({ query: "ballast_demand" }));
      expect(e.field).toBe("predictive.history.query");
      expect(e.message).toMatch(/^predictive\.history\.query: returned 2 series/);
      expect(e.message).toContain('workload="api"');
      expect(e.message).toContain('workload="web"');
      expect(e.message).toContain("sum(ballast_demand)");

      // Series that follow one another count too, also when each chunk of the range holds only one.
      for (const stepSeconds of [MINUTE, 20]) {
        const pods = await failure(at({ query: "ballast_pod_demand", stepSeconds }));
        expect(pods.message).toMatch(/returned 2 series .*pod="a".*pod="b"/);
      }

      // Aggregated, it is one series again.
      const sum = await fetchHistory(at({ query: "sum(ballast_demand)", start: ms(dataEnd - HOUR) }));
      expect(sum.t.length).toBe(61);
      sum.t.forEach((t, i) => {
        expect(sum.v[i]).toBeCloseTo(demand(t / 1000, "web") + demand(t / 1000, "api"), 9);
      });
    });

    it("reports Prometheus' own error for bad PromQL", async () => {
      const e = await failure(at({ query: "sum(rate(ballast_demand[5m]" }));
      expect(e.field).toBe("predictive.history.query");
      expect(e.message).toContain(`${prom?.url}/api/v1/query_range`);
      expect(e.message).toContain("HTTP 400 (bad_data)");
      expect(e.message).toMatch(/parse error/);
    });
  },
);

describe("fetchHistory without a Prometheus", () => {
  const base: HistoryQuery = {
    url: "http://127.0.0.1:9090",
    query: "sum(rate(http_requests_total[5m]))",
    start: Date.UTC(2026, 10, 1),
    end: Date.UTC(2026, 10, 8),
    stepSeconds: 60,
    field: "predictive.history",
  };

  it("names the offending field of bad inputs", async () => {
    const cases: [Partial<HistoryQuery>, string, RegExp][] = [
      [{ url: "" }, "url", /must not be empty/],
      [{ url: "prometheus:9090" }, "url", /http\(s\) URL/],
      [{ url: "not a url" }, "url", /http\(s\) URL/],
      [{ url: "ftp://prometheus:9090" }, "url", /http\(s\) URL/],
      [{ url: "http://admin:secret@prometheus:9090" }, "url", /credentials/],
      [{ url: "http://prometheus:9090/?x=1" }, "url", /without a query/],
      [{ query: "  " }, "query", /must not be empty/],
      [{ stepSeconds: 0 }, "stepSeconds", /positive integer/],
      [{ stepSeconds: 1.5 }, "stepSeconds", /positive integer/],
      [{ stepSeconds: Number.NaN }, "stepSeconds", /positive integer/],
      [{ stepSeconds: 1, start: 0 }, "stepSeconds", /more than 1000000/],
      [{ start: Number.NaN }, "start", /epoch milliseconds/],
      [{ start: -1 }, "start", /epoch milliseconds/],
      [{ end: 1.5 }, "end", /epoch milliseconds/],
      [{ end: base.start }, "end", /must be after start/],
      [{ end: base.start - 1 }, "end", /must be after start/],
      [{ timeoutMs: 0 }, "timeoutMs", /above 0/],
      [{ timeoutMs: 2 ** 40 }, "timeoutMs", /at most/],
      [{ headers: { "bad name": "x" } }, "headers", /not a valid header name/],
      [{ headers: { authorization: "Bearer a\r\nX-Injected: 1" } }, "headers.authorization", /one line/],
    ];
    for (const [change, field, message] of cases) {
      const e = await failure({ ...base, ...change });
      expect(e.field, JSON.stringify(change)).toBe(`predictive.history.${field}`);
      expect(e.message, JSON.stringify(change)).toMatch(new RegExp(`^predictive\\.history\\.${field}: `));
      expect(e.message, JSON.stringify(change)).toMatch(message);
    }
    expect((await failure(undefined as unknown as HistoryQuery)).message).toMatch(/^history: /);
    // Without a prefix the fields are under "history".
    const plain = await failure({ ...base, field: undefined, query: "" });
    expect(plain.message).toBe("history.query: must not be empty");
  });

  it("says clearly that the connection was refused", async () => {
    const port = await freePort();
    const e = await failure({ ...base, url: `http://127.0.0.1:${port}` });
    expect(e.field).toBeUndefined();
    expect(e.message).toContain(`http://127.0.0.1:${port}/api/v1/query_range`);
    expect(e.message).toMatch(/connection refused/);
  });

  it("gives up after timeoutMs when the server never answers, and stops on the caller's signal", async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const began = Date.now();
      const e = await failure({ ...base, url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      expect(e.message).toMatch(/did not answer within 300 ms/);
      expect(Date.now() - began).toBeLessThan(3000);

      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const aborted = await failure({ ...base, url: `http://127.0.0.1:${port}`, signal: ac.signal });
      expect(aborted.message).toBe("predictive.history: aborted");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  describe("answers that are not a usable range-query result", () => {
    let server: Server;
    let url = "";
    let reply: { status: number; type: string; body: string } = { status: 200, type: "", body: "" };
    const seen: { method?: string; path?: string; type?: string; body: string }[] = [];

    beforeAll(async () => {
      server = createHttpServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          seen.push({ method: req.method, path: req.url, type: req.headers["content-type"], body });
          res.writeHead(reply.status, { "content-type": reply.type });
          res.end(reply.body);
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/prom`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    const answer = async (status: number, type: string, body: string) => {
      reply = { status, type, body };
      return failure({ ...base, url });
    };

    it("posts the query form-encoded under the URL's path", async () => {
      seen.length = 0;
      await answer(500, "text/plain", "boom");
      expect(seen[0]?.method).toBe("POST");
      expect(seen[0]?.path).toBe("/prom/api/v1/query_range");
      expect(seen[0]?.type).toBe("application/x-www-form-urlencoded");
      const form = new URLSearchParams(seen[0]?.body);
      expect(form.get("query")).toBe(base.query);
      expect(form.get("start")).toBe(String(base.start / 1000).concat(".000"));
      expect(form.get("step")).toBe("60");
    });

    it("reports each kind of bad answer without crashing", async () => {
      const json = "application/json";
      const e1 = await answer(200, "text/html", "<html><body>Grafana login</body></html>");
      expect(e1.message).toMatch(/HTTP 200 with a body that is not JSON .*Grafana login/);
      const e2 = await answer(200, json, '{"status":"success","data":{"resultType":"vector","result":[]}}');
      expect(e2.message).toMatch(/not a range-query result: "resultType" is "vector"/);
      const e3 = await answer(200, json, "[1,2,3]");
      expect(e3.message).toMatch(/not a range-query result: not a JSON object/);
      const e4 = await answer(200, json, "null");
      expect(e4.message).toMatch(/not a range-query result: not a JSON object/);
      const e4b = await answer(200, json, '{"data":{}}');
      expect(e4b.message).toMatch(/not a range-query result: "status" is missing/);
      const e5 = await answer(
        200,
        json,
        '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"12x"]]}]}}',
      );
      expect(e5.message).toMatch(/values\[0\] has the value "12x"/);
      const e6 = await answer(
        200,
        json,
        '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["1","2"]]}]}}',
      );
      expect(e6.message).toMatch(/values\[0\] has no numeric time/);
      const e7 = await answer(502, "text/plain", "Bad Gateway\n");
      expect(e7.message).toMatch(/answered HTTP 502: Bad Gateway$/);
      const e8 = await answer(503, json, "");
      expect(e8.message).toMatch(/answered HTTP 503: \(empty body\)/);
      const e9 = await answer(
        422,
        json,
        '{"status":"error","errorType":"execution","error":"query timed out"}',
      );
      expect(e9.message).toMatch(/HTTP 422 \(execution\): query timed out$/);
      expect(e9.field).toBeUndefined();
      const e10 = await answer(
        200,
        json,
        '{"status":"success","data":{"resultType":"matrix","result":[{}]}}',
      );
      expect(e10.message).toMatch(/result\[0\] has no "metric" labels/);
    });
  });
});
