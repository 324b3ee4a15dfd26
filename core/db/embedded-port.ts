import net from "node:net";
import { ConfigError } from "../../config/env.ts";
import { getLogger } from "../../config/logging.ts";

const log = getLogger(["polyphony", "db", "embedded"]);

/** The embedded PostgreSQL's port when EMBEDDED_DB_PORT is unset and nothing else holds it. */
export const DEFAULT_EMBEDDED_DB_PORT = 54329;

/**
 * The port the embedded PostgreSQL listens on (127.0.0.1 only). Asked for by EMBEDDED_DB_PORT: that port,
 * or an error naming the variable. Unset: the default, or any free port when another server (say a
 * second Polyphony) holds it. Nothing needs the port to stay the same from one start to the next: our
 * processes read it from the running server's postmaster.pid.
 */
export async function chooseEmbeddedPort(requested: number | undefined): Promise<number> {
  if (requested !== undefined) {
    const problem = await portProblem(requested);
    if (problem) throw embeddedPortTaken(requested, problem);
    return requested;
  }
  const problem = await portProblem(DEFAULT_EMBEDDED_DB_PORT);
  if (!problem) return DEFAULT_EMBEDDED_DB_PORT;
  const port = await anyFreePort();
  log.info("Port {default} on 127.0.0.1 is taken ({problem}); the embedded PostgreSQL uses port {port}", {
    default: DEFAULT_EMBEDDED_DB_PORT,
    problem,
    port,
  });
  return port;
}

export function embeddedPortTaken(port: number, problem = "in use"): ConfigError {
  return new ConfigError(
    `Invalid configuration:\n  EMBEDDED_DB_PORT: port ${port} on 127.0.0.1 cannot be used (${problem}); ` +
      "choose another port, or leave EMBEDDED_DB_PORT unset to have a free one chosen",
  );
}

/** Why the port cannot be listened on (say "in use"), or undefined when it can. */
function portProblem(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      resolve(error.code === "EADDRINUSE" ? "in use" : (error.code ?? error.message)),
    );
    probe.listen({ port, host: "127.0.0.1", exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
