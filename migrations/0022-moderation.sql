-- Moderation (issue 17, point 5): which servers we federate with, people blocking remote actors,
-- reports other servers send us (Flag), and a log of every decision. `domain.blocked` and `.silenced`
-- exist since 0016; `allowed` is the list FEDERATION_MODE=allowlist federates with.

ALTER TABLE domain ADD COLUMN allowed boolean NOT NULL DEFAULT false;

-- A person blocking a remote actor: its follows of their libraries go, its activities to them are ignored.
CREATE TABLE user_block (
  user_id uuid NOT NULL CONSTRAINT user_block_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  actor_id uuid NOT NULL CONSTRAINT user_block_actor_id_foreign REFERENCES actor (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_block_pkey PRIMARY KEY (user_id, actor_id)
);
-- Is this actor blocked by the owner of what it addresses: read by actor.
CREATE INDEX user_block_actor_id_index ON user_block (actor_id);

-- A report (Flag) another server sent about something of ours, waiting in the admins' queue until
-- resolved. `targets` are the objects it names as we understood them ([{fid, kind, id, name}], kind
-- one of library, track, album, artist, playlist, user, unknown); the reporter actor may be gone, its domain stays.
CREATE TABLE report (
  id uuid PRIMARY KEY,
  fid text CONSTRAINT report_fid_unique UNIQUE,
  reporter_id uuid CONSTRAINT report_reporter_id_foreign REFERENCES actor (id) ON DELETE SET NULL,
  reporter_domain text NOT NULL,
  content text NOT NULL DEFAULT '',
  -- Funkwhale's report type (its Hashtag: takedown_request, illegal_content, offensive_content, other).
  category text,
  targets jsonb NOT NULL DEFAULT '[]',
  state text NOT NULL DEFAULT 'open' CONSTRAINT report_state_check CHECK (state IN ('open', 'resolved')),
  resolved_by_id uuid CONSTRAINT report_resolved_by_id_foreign REFERENCES app_user (id) ON DELETE SET NULL,
  resolved_at timestamptz,
  resolution text,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The queue: open reports, oldest first.
CREATE INDEX report_state_created_at_index ON report (state, created_at);

-- Every moderation decision, newest first for the admins' page. `moderator_id` is who decided (an
-- admin, or the person who blocked); `target` names what it was about (a domain, an actor id, a report).
CREATE TABLE moderation_log (
  id uuid PRIMARY KEY,
  moderator_id uuid CONSTRAINT moderation_log_moderator_id_foreign REFERENCES app_user (id) ON DELETE SET NULL,
  action text NOT NULL CONSTRAINT moderation_log_action_check CHECK (action IN (
    'domain_block', 'domain_unblock', 'domain_silence', 'domain_unsilence', 'domain_allow', 'domain_disallow',
    'user_block', 'user_unblock', 'report_resolve', 'report_reopen')),
  target text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_log_created_at_index ON moderation_log (created_at);
