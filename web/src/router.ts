// Routes: every page is its own lazy chunk, so the first load carries only the shell and the player.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { connectEvents } from "./stores/events.ts";
import { loadSession, session } from "./stores/session.ts";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without an account (the log-in and sign-up pages). */
    public?: boolean;
    admin?: boolean;
    title?: string;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/login", component: () => import("./pages/LoginPage.vue"), meta: { public: true, title: "Log in" } },
  { path: "/signup", component: () => import("./pages/SignupPage.vue"), meta: { public: true, title: "Sign up" } },
  { path: "/", component: () => import("./pages/HomePage.vue"), meta: { title: "Home" } },
  { path: "/artists", component: () => import("./pages/ArtistsPage.vue"), meta: { title: "Artists" } },
  { path: "/artists/:id", component: () => import("./pages/ArtistPage.vue"), props: true, meta: { title: "Artist" } },
  { path: "/albums", component: () => import("./pages/AlbumsPage.vue"), meta: { title: "Albums" } },
  { path: "/albums/:id", component: () => import("./pages/AlbumPage.vue"), props: true, meta: { title: "Album" } },
  { path: "/tracks", component: () => import("./pages/TracksPage.vue"), meta: { title: "Tracks" } },
  { path: "/tracks/:id/similar", component: () => import("./pages/SimilarTracksPage.vue"), props: true, meta: { title: "More like this" } },
  { path: "/genres", component: () => import("./pages/GenresPage.vue"), meta: { title: "Genres" } },
  { path: "/search", component: () => import("./pages/SearchPage.vue"), meta: { title: "Search" } },
  { path: "/playlists", component: () => import("./pages/PlaylistsPage.vue"), meta: { title: "Playlists" } },
  { path: "/playlists/:id", component: () => import("./pages/PlaylistPage.vue"), props: true, meta: { title: "Playlist" } },
  { path: "/favorites", component: () => import("./pages/FavoritesPage.vue"), meta: { title: "Favourites" } },
  { path: "/libraries", component: () => import("./pages/LibrariesPage.vue"), meta: { title: "Libraries" } },
  { path: "/libraries/:id", component: () => import("./pages/LibraryPage.vue"), props: true, meta: { title: "Library" } },
  { path: "/people", component: () => import("./pages/PersonPage.vue"), meta: { title: "People" } },
  { path: "/people/:name/stats", component: () => import("./pages/StatsPage.vue"), props: true, meta: { title: "Statistics" } },
  { path: "/people/:name", component: () => import("./pages/PersonPage.vue"), props: true, meta: { title: "Person" } },
  { path: "/listens", component: () => import("./pages/ListensPage.vue"), meta: { title: "Listening history" } },
  { path: "/stats", component: () => import("./pages/StatsPage.vue"), meta: { title: "Statistics" } },
  { path: "/lastfm/auth", component: () => import("./pages/LastfmAuthPage.vue"), meta: { title: "Allow a scrobbler" } },
  { path: "/settings", component: () => import("./pages/SettingsPage.vue"), meta: { title: "Settings" } },
  { path: "/admin", component: () => import("./pages/AdminPage.vue"), meta: { title: "Administration", admin: true } },
  { path: "/admin/moderation", component: () => import("./pages/ModerationPage.vue"), meta: { title: "Moderation", admin: true } },
  { path: "/:path(.*)*", component: () => import("./pages/NotFoundPage.vue"), meta: { title: "Not found" } },
];

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
});

router.beforeEach(async (to) => {
  await loadSession();
  if (to.meta.public) return session.user ? { path: "/" } : true;
  if (!session.user) return { path: "/login", query: to.fullPath === "/" ? {} : { next: to.fullPath } };
  connectEvents();
  if (to.meta.admin && session.user.role !== "admin") return { path: "/" };
  return true;
});

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · Polyphony` : "Polyphony";
});
