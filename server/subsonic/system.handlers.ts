import type { SubsonicHandler } from "./context.ts";
import type { Elem } from "./response.ts";

/** Only what we implement: clients switch behaviour on these names. */
export const EXTENSIONS: Elem[] = [
  { name: "apiKeyAuthentication", versions: [1] },
  { name: "formPost", versions: [1] },
  { name: "songLyrics", versions: [1] },
  { name: "transcodeOffset", versions: [1] },
];

export const systemHandlers: Record<string, SubsonicHandler> = {
  ping: async () => ({}),
  getLicense: async () => ({ license: { valid: true } }),
  tokenInfo: async ({ user }) => ({ tokenInfo: { username: user.username } }),
};
