-- Per-user catalog data: favourites, 1-5 ratings, play counts. Each row names exactly one of a track,
-- an album or an artist, with a real foreign key, so it goes when that row goes (README: deleting).

CREATE TABLE favorite (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL CONSTRAINT favorite_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  track_id uuid CONSTRAINT favorite_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  album_id uuid CONSTRAINT favorite_album_id_foreign REFERENCES album (id) ON DELETE CASCADE,
  artist_id uuid CONSTRAINT favorite_artist_id_foreign REFERENCES artist (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT favorite_one_target_check CHECK (num_nonnulls(track_id, album_id, artist_id) = 1)
);
CREATE UNIQUE INDEX favorite_user_track_unique ON favorite (user_id, track_id) WHERE track_id IS NOT NULL;
CREATE UNIQUE INDEX favorite_user_album_unique ON favorite (user_id, album_id) WHERE album_id IS NOT NULL;
CREATE UNIQUE INDEX favorite_user_artist_unique ON favorite (user_id, artist_id) WHERE artist_id IS NOT NULL;

CREATE TABLE rating (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL CONSTRAINT rating_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  track_id uuid CONSTRAINT rating_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  album_id uuid CONSTRAINT rating_album_id_foreign REFERENCES album (id) ON DELETE CASCADE,
  artist_id uuid CONSTRAINT rating_artist_id_foreign REFERENCES artist (id) ON DELETE CASCADE,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rating_one_target_check CHECK (num_nonnulls(track_id, album_id, artist_id) = 1)
);
CREATE UNIQUE INDEX rating_user_track_unique ON rating (user_id, track_id) WHERE track_id IS NOT NULL;
CREATE UNIQUE INDEX rating_user_album_unique ON rating (user_id, album_id) WHERE album_id IS NOT NULL;
CREATE UNIQUE INDEX rating_user_artist_unique ON rating (user_id, artist_id) WHERE artist_id IS NOT NULL;

-- Kept by the listen and scrobble paths: how often and when each user last played each track.
CREATE TABLE play_stat (
  user_id uuid NOT NULL CONSTRAINT play_stat_user_id_foreign REFERENCES app_user (id) ON DELETE CASCADE,
  track_id uuid NOT NULL CONSTRAINT play_stat_track_id_foreign REFERENCES track (id) ON DELETE CASCADE,
  play_count integer NOT NULL DEFAULT 0,
  last_played_at timestamptz NOT NULL,
  CONSTRAINT play_stat_pkey PRIMARY KEY (user_id, track_id)
);
CREATE INDEX play_stat_track_id_index ON play_stat (track_id);

CREATE INDEX album_created_at_index ON album (created_at);
CREATE INDEX album_year_index ON album (year);
CREATE INDEX track_genre_genre_id_index ON track_genre (genre_id);
