import type { Privacy } from "../types.ts";

export const PRIVACY_LABELS: Record<Privacy, string> = {
  private: "Only me",
  instance: "People on this server",
  public: "Everyone (public, federated)",
};
