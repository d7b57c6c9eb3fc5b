import { readFileSync } from "node:fs";
import type { AuthenticationV1Api } from "@kubernetes/client-node";
import type { Authenticator, Caller } from "./caller.js";

const CACHE_MS = 30_000;
const CACHE_LIMIT = 10_000;

/**
 * Kube mode: bearer tokens (ServiceAccount tokens among them) are checked by the API server through
 * the TokenReview API. Answers are cached briefly so a burst of calls costs one review.
 */
export class TokenReviewAuthenticator implements Authenticator {
  private readonly cache = new Map<string, { caller: Caller | undefined; until: number }>();

  constructor(private readonly authn: AuthenticationV1Api) {}

  async authenticate(token: string): Promise<Caller | undefined> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.caller;
    const review = await this.authn.createTokenReview({ body: { spec: { token } } });
    const s = review.status;
    const caller: Caller | undefined =
      s?.authenticated && s.user?.username
        ? { user: s.user.username, groups: s.user.groups ?? [], uid: s.user.uid }
        : undefined;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, { caller, until: now + CACHE_MS });
    return caller;
  }
}

/**
 * Local mode: a token file with one `token,user[,group1;group2]` per line (comments with #). It is read
 * at start; a line that does not parse is refused naming its number.
 */
export class TokenFileAuthenticator implements Authenticator {
  private readonly tokens = new Map<string, Caller>();

  constructor(path: string) {
    readFileSync(path, "utf8")
      .split("\n")
      .forEach((raw, i) => {
        const line = raw.trim();
        if (!line || line.startsWith("#")) return;
        const [token, user, groups] = line.split(",").map((x) => x.trim());
        if (!token || !user) throw new Error(`${path}:${i + 1}: expected token,user[,groups]`);
        this.tokens.set(token, { user, groups: groups ? groups.split(";") : [] });
      });
  }

  async authenticate(token: string): Promise<Caller | undefined> {
    return this.tokens.get(token);
  }
}
