// Package throttle slows down password guessing on Signet's sign-in forms
// (the OpenID Connect login page and the dashboard's sign-in).
//
// A Guard keeps two sets of token buckets, one by account and one by client
// IP. Each failed sign-in spends one attempt from the account's bucket and
// one from the IP's; a bucket refills by one attempt every Every, up to
// Burst. While either bucket is empty, sign-ins for that account or from
// that IP are refused without a look at the password: the form answers 429
// Too Many Requests with a Retry-After header (RetryAfter). A successful
// sign-in refills the account's bucket, not the IP's. Callers throttle
// unknown accounts alike, so that the answers tell nothing about which
// accounts exist.
//
// The buckets live in the memory of each replica: with N replicas behind a
// load balancer an attacker gets at most N times the attempts. Memory is
// bounded: buckets that have refilled are forgotten, and past 100,000
// buckets per set the fullest go first.
//
// A Gate bounds how many password checks run at once, so that a burst of
// sign-ins queues instead of exhausting memory (each Argon2id check takes
// 64 MiB with the default parameters).
package throttle
