package simulator

// platformFactors are the DegradePlatform factors by PushPlatform code; a
// platform without one delivers normally. Guarded by Tencent.mu.
type platformFactors map[int]float64

// of returns the factor of a PushPlatform code, 1 when it is not degraded.
func (f platformFactors) of(platform int) float64 {
	if factor, ok := f[platform]; ok {
		return factor
	}
	return 1
}

// DegradePlatform multiplies the DeliveredCount and ClickCount of a
// PushPlatform code (All/Tagged Users Push Data Statistics: 1 APNs, 2 Xiaomi, 3
// Huawei, …) by factor in every all_member_push_statistics and
// normal_push_statistics answer from now on, for every task and window: the
// alert scenario of a failing vendor channel. The totals, which add up the
// platforms, follow, and both push loss APIs report the pushes the platform
// no longer delivers as lost for one reason (for Huawei, 80300007 "token
// invalid"; see degradeReason). A factor of 1 restores the platform; a
// negative one counts as 0.
func (t *Tencent) DegradePlatform(platform int, factor float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if factor == 1 {
		delete(t.degraded, platform)
		return
	}
	t.degraded[platform] = max(factor, 0)
}
