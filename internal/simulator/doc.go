// Package simulator fakes the vendors' statistics APIs closely enough to run
// the exporter against: --demo serves it on loopback, and the tests and
// benchmarks run against it.
//
// It follows the vendors' public documentation (Tencent Chat's REST API
// pages, JPush "REST API v3 Report"): field names, string-typed values,
// limits and error codes. It enforces the
// documented limits, so that an exporter that breaks one gets the vendor's
// error instead of a silent success.
//
// Tencent serves the Tencent Cloud IM (Chat) APIs. Every figure it reports is
// a pure function of a seed, the app and the day or push task, so tests can
// assert exact values; time comes from a clock.Clock, so a fake clock drives
// rate limits, day boundaries and push funnels.
//
// A Fault, shared by every simulated vendor, makes an API misbehave at run
// time (HTTP errors, garbage, vendor error codes, delays, cut or oversized
// bodies, reset connections) for the tests of the exporter's failure handling.
package simulator

import "hash/fnv"

// mix is the SplitMix64 finaliser. The simulator draws every number through
// it so that data depends on nothing but the seed and the inputs.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit returns a number in [0, 1) determined by seed and parts.
func unit(seed int64, parts ...uint64) float64 {
	h := mix(uint64(seed))
	for _, p := range parts {
		h = mix(h ^ p)
	}
	return float64(h>>11) / (1 << 53)
}

// tag turns a name (a field, a trait) into a part for unit.
func tag(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name)) // a hash.Hash never fails to write
	return h.Sum64()
}
