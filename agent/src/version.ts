/** Version of ballast-agent, sent in the AgentLink hello. */
export const AGENT_VERSION = "0.1.0";
