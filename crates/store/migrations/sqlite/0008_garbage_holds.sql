-- Holds on garbage collection. While a hold is unexpired, no queued blob is handed out for
-- removal, so an online backup can copy every blob its snapshot of the metadata references
-- (`cloudnexus admin backup`). A hold names its holder and expires by itself, so one whose
-- holder died stops holding. `until` is in seconds since the Unix epoch, as every time here.
CREATE TABLE garbage_holds (
    holder      TEXT PRIMARY KEY,
    until       BIGINT NOT NULL
);
