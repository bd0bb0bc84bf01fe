// Package throttle slows down password guessing on Signet's sign-in forms
// (the OpenID Connect login page and the dashboard's sign-in).
//
// A Guard keeps three sets of token buckets: by account and client IP, by
// account across all IPs (a much higher ceiling), and by client IP. Each
// failed sign-in spends one attempt from each of its three buckets; a
// bucket refills by one attempt every period, up to its burst. While one
// of them is empty, sign-ins for that account from that IP are refused
// without a look at the password: the form answers 429 Too Many Requests
// with a Retry-After header (RetryAfter). An attacker's failures from one
// address therefore do not lock the account's owner out at another; an
// attacker spread over many addresses empties the ceiling, which then
// holds back every address except those the account signed in from in the
// last 30 days. A successful sign-in refills the (account, IP) bucket and
// marks the IP as the account's; it refills neither the ceiling nor the
// IP's bucket. Callers throttle unknown accounts alike, so that the
// answers tell nothing about which accounts exist.
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
