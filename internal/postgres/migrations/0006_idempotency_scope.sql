-- Idempotency keys belong to the caller that sent them: the stored key is
-- the actor (with '%' and line feeds escaped), a line feed and the caller's
-- key (see keyring.scopedIdempotencyKey). Keys from before were sent in HTTP
-- headers, which cannot hold a line feed, so no rewritten key can collide
-- with one not yet rewritten.
UPDATE events
SET idempotency_key = replace(replace(actor, '%', '%25'), chr(10), '%0A') || chr(10) || idempotency_key
WHERE idempotency_key IS NOT NULL;
