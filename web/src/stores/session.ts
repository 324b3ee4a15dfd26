// Who is signed in, and the instance's public facts (name, registration mode). Plain reactive state.
import { reactive } from "vue";
import { api, setCsrfToken } from "../api.ts";
import type { Instance, User } from "../types.ts";

export const session = reactive({
  user: null as User | null,
  instance: null as Instance | null,
  ready: false,
});

type Started = { user: User; csrfToken: string };

let loading: Promise<void> | null = null;

/**
 * Loads the current user once and the instance facts. /auth/session answers a visitor with `user: null`
 * (not a 401, which the browser would log as an error on the landing page).
 */
export function loadSession(): Promise<void> {
  loading ??= (async () => {
    const [me, instance] = await Promise.allSettled([
      api.get<{ user: User | null; csrfToken?: string }>("/auth/session"),
      api.get<Instance>("/instance"),
    ]);
    if (me.status === "fulfilled") {
      session.user = me.value.user;
      setCsrfToken(me.value.csrfToken ?? null);
    } else {
      console.error(me.reason);
    }
    // Older servers have no /instance: registration is then open.
    session.instance = instance.status === "fulfilled" ? instance.value : { name: "Polyphony", version: "", registration: "open" };
    session.ready = true;
  })();
  return loading;
}

function started(result: Started): User {
  setCsrfToken(result.csrfToken);
  session.user = result.user;
  return result.user;
}

export async function login(username: string, password: string): Promise<User> {
  return started(await api.post<Started>("/auth/login", { username, password }));
}

export async function signup(input: { username: string; password: string; email?: string; inviteCode?: string }): Promise<User> {
  return started(await api.post<Started>("/auth/signup", input));
}

export async function logout(): Promise<void> {
  try {
    await api.post("/auth/logout");
  } finally {
    setCsrfToken(null);
    session.user = null;
  }
}

export const isAdmin = () => session.user?.role === "admin";
