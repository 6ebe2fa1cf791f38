package sim

import (
	"math"
	"time"

	"virtxend/internal/backend"
)

// The simulated guests' load. A running guest is busy on each online vCPU
// for a share of the time that wanders between 5% and 95%: half, plus a
// slow swell of a minute and a quicker ripple of seven seconds, each with a
// phase of the guest's own (from its domid), so that two guests differ and
// tools that graph usage show something that moves. The CPU time a vCPU
// accrues is the integral of that share over the time the guest ran, in
// closed form, so it needs no state beyond the timestamps the host keeps
// already and grows strictly while the guest runs.
const (
	loadBase       = 0.5
	swellShare     = 0.3
	swellPeriod    = 60 * time.Second
	rippleShare    = 0.15
	ripplePeriod   = 7 * time.Second
	domidPhaseStep = 2.399963 // radians per domid: the golden angle
)

// busyTime is the CPU time one vCPU of the guest domid accrues running
// from from to to.
func busyTime(domid backend.DomID, from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	phase := math.Mod(float64(domid)*domidPhaseStep, 2*math.Pi)
	s := loadBase*to.Sub(from).Seconds() +
		waveIntegral(swellShare, swellPeriod, phase, from, to) +
		waveIntegral(rippleShare, ripplePeriod, 2*phase, from, to)
	return time.Duration(s * float64(time.Second))
}

// waveIntegral is the integral of share·sin(2πt/period + phase) over
// [from, to], in seconds. The angles are taken from the instants modulo
// the period in whole nanoseconds, so that they keep their precision
// however far the clock is from its epoch.
func waveIntegral(share float64, period time.Duration, phase float64, from, to time.Time) float64 {
	angle := func(t time.Time) float64 {
		r := t.UnixNano() % int64(period)
		if r < 0 {
			r += int64(period)
		}
		return 2*math.Pi*float64(r)/float64(period) + phase
	}
	return share * period.Seconds() / (2 * math.Pi) * (math.Cos(angle(from)) - math.Cos(angle(to)))
}

// bursty is the device activity of a guest that has used t of CPU time:
// it grows with t, at a rate swinging between 0.2 and 2.2 times t's over
// period of CPU time, so that counters made from it rise in bursts and
// never fall.
func bursty(t time.Duration, period time.Duration) float64 {
	x, p := float64(t)/float64(time.Millisecond), float64(period)/float64(time.Millisecond)
	return 1.2*x + p/(2*math.Pi)*(1-math.Cos(2*math.Pi*x/p))
}
