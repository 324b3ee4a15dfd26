import type { ListenSink } from "../../core/listens/listen-submission.ts";
import type { LastfmAuthService, ScrobblingUser } from "../../core/lastfm/lastfm-auth.service.ts";
import type { SigningApplication } from "../../core/lastfm/lastfm-apps.service.ts";
import { LASTFM_ERRORS, LastfmError } from "../../core/lastfm/lastfm-error.ts";
import { parseNowPlaying, parseScrobbles, type Ignored } from "../../core/lastfm/scrobble-params.ts";
import { LASTFM_SOURCE } from "./listen-source.ts";
import { el, parent, type LfmNode } from "./lfm-response.ts";

/** What a method sees: its parameters, the signing application, and the session's person when it needs one. */
export interface MethodCall {
  params: Record<string, string>;
  app: SigningApplication;
  user: ScrobblingUser | null;
  clientIp: string;
}

export interface LastfmMethodDeps {
  auth: LastfmAuthService;
  sink: ListenSink;
  publicUrl: URL;
}

/** How a method must be called: signed (api_sig), POST only, with a session key (sk). */
export interface MethodSpec {
  signed: boolean;
  post: boolean;
  session: boolean;
  run(call: MethodCall): Promise<LfmNode>;
}

const required = (params: Record<string, string>, name: string): string => {
  const value = params[name];
  if (!value) throw new LastfmError(LASTFM_ERRORS.INVALID_PARAMETERS, `Invalid parameters - Your request is missing the required parameter ${name}`);
  return value;
};

const session = (name: string, key: string) => parent("session", [el("name", name), el("key", key), el("subscriber", 0)]);
const corrected = (name: string, text: string) => el(name, text, { corrected: "0" });
const ignoredMessage = (ignored: Ignored | null) => el("ignoredMessage", ignored?.message ?? "", { code: String(ignored?.code ?? 0) });

/** The methods we answer, by lower-cased name (Last.fm's method names are case-insensitive). */
export function lastfmMethods(deps: LastfmMethodDeps): Record<string, MethodSpec> {
  const { auth, sink } = deps;
  return {
    "auth.gettoken": {
      signed: true, post: false, session: false,
      run: async ({ app }) => el("token", await auth.newToken(app)),
    },
    "auth.getsession": {
      signed: true, post: false, session: false,
      run: async ({ app, params }) => {
        const { name, key } = await auth.sessionFromToken(app, required(params, "token"));
        return session(name, key);
      },
    },
    "auth.getmobilesession": {
      signed: true, post: true, session: false,
      run: async ({ app, params, clientIp }) => {
        const { name, key } = await auth.mobileSession(app, { username: required(params, "username"), password: required(params, "password"), clientIp });
        return session(name, key);
      },
    },
    "track.updatenowplaying": {
      signed: true, post: true, session: true,
      run: async ({ app, params, user }) => {
        const { fields, ignored, echo } = parseNowPlaying(params);
        if (!ignored) await sink.playingNow(user!.id, { ...fields, client: app.name }, LASTFM_SOURCE);
        return parent("nowplaying", [
          corrected("track", echo.track), corrected("artist", echo.artist), corrected("album", echo.album),
          corrected("albumArtist", echo.albumArtist), ignoredMessage(ignored),
        ]);
      },
    },
    "track.scrobble": {
      signed: true, post: true, session: true,
      run: async ({ app, params, user }) => {
        const scrobbles = parseScrobbles(params);
        const listens = scrobbles.flatMap((s) => (s.listen ? [{ ...s.listen, client: app.name }] : []));
        // A listen the person already has counts as accepted: the client resent it, and must stop.
        if (listens.length) await sink.submit(user!.id, listens, LASTFM_SOURCE);
        return parent("scrobbles", scrobbles.map((s) => parent("scrobble", [
          corrected("track", s.track), corrected("artist", s.artist), corrected("album", s.album),
          corrected("albumArtist", s.albumArtist), el("timestamp", s.timestamp), ignoredMessage(s.ignored),
        ])), { accepted: listens.length, ignored: scrobbles.length - listens.length });
      },
    },
    "user.getinfo": {
      signed: false, post: false, session: false,
      run: async ({ params, user }) => userInfo(deps, params, user),
    },
  };
}

/**
 * user.getInfo for `user`, else the session's person. Another person's answer depends on their listen
 * privacy (public to all, instance to sessions here); when it may not be seen, the answer is Last.fm's
 * for a name nobody has, so nothing says who exists.
 */
async function userInfo(deps: LastfmMethodDeps, params: Record<string, string>, user: ScrobblingUser | null): Promise<LfmNode> {
  const name = params.user || user?.username;
  const info = name ? await deps.auth.userInfo(name, user?.id ?? null) : null;
  if (!info) throw new LastfmError(LASTFM_ERRORS.INVALID_PARAMETERS, "User not found");
  const unixtime = Math.floor(info.registered.getTime() / 1000);
  return parent("user", [
    el("name", info.username),
    el("realname", ""),
    el("url", new URL(`people/${encodeURIComponent(info.username)}`, deps.publicUrl).href),
    el("country", ""),
    el("age", "0"),
    el("gender", "n"),
    el("subscriber", "0"),
    el("playcount", String(info.playcount)),
    el("playlists", "0"),
    el("bootstrap", "0"),
    el("registered", unixtime, { unixtime: String(unixtime) }),
    el("type", "user"),
  ]);
}
