import { createApp } from "vue";
import App from "./App.vue";
import { initMediaSession } from "./player/media-session.ts";
import { initPlayer } from "./player/engine.ts";
import { initShortcuts } from "./player/shortcuts.ts";
import { router } from "./router.ts";
import "./styles.css";

initPlayer();
initMediaSession();
initShortcuts();
createApp(App).use(router).mount("#app");
