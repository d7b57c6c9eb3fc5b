export { Agent } from "./agent.js";
export { AgentLinkClient } from "./agent-link-client.js";
export { AppRegistry } from "./app-registry.js";
export { type CgroupReading, type CgroupResult, parseProcCgroup, readCgroup } from "./cgroup.js";
export { type AgentConfig, ConfigError, parseAgentConfig } from "./config.js";
export { DropOldestBuffer } from "./report-buffer.js";
export { UsageSampler } from "./usage-sampler.js";
