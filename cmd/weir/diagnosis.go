package main

import (
	"fmt"
	"strings"

	"github.com/weir-etl/weir"
)

// busyEnough is the busy share above which a stage counts as the limit:
// below it, no stage was saturated and more capacity anywhere would not
// make the run much faster.
const busyEnough = 0.6

// diagnose names the stage that held a run back, with its numbers (busy
// share, goroutines, latency per batch), and the change most likely to
// help, using what the adaptive controllers and the memory budget did when
// they ran. cpus is how many CPUs the process may use. It returns two
// lines: the finding and the advice.
func diagnose(st weir.Stats, cpus int) string {
	stage := st.Bottleneck()
	if stage == 0 || st.Extract.Batches == 0 {
		return "bottleneck: none measured (the run was too short)\n"
	}
	s := map[weir.Stage]weir.StageStats{weir.StageExtract: st.Extract, weir.StageTransform: st.Transform, weir.StageLoad: st.Load}[stage]
	u := s.Utilization(st.Elapsed)
	perBatch := int64(0)
	if st.Extract.Batches > 0 {
		perBatch = st.Extract.Records / st.Extract.Batches
	}
	finding := fmt.Sprintf("bottleneck: %s busy %.0f%% of %d %s, %s per batch (p95 %s), batches of ~%d records",
		stage, 100*u, s.Goroutines, goroutineNoun(stage, s.Goroutines), round(s.Latency.P50), round(s.Latency.P95), perBatch)
	if u < busyEnough {
		return finding + fmt.Sprintf("\n  no stage was busy more than %.0f%% of the time: the stages waited on each other or on the flush interval, not on work; more workers or loaders will not help much\n", 100*u)
	}
	// Batches the budget cut short (the engine sizes them by the largest
	// record): a larger --batch would not change them.
	m := st.Memory
	memLimited := m.Budget > 0 && perBatch*m.Largest > m.BatchBytes/2
	var advice []string
	switch stage {
	case weir.StageExtract:
		advice = append(advice, "the source is the limit: more workers or loaders will not help; a faster source will (a local copy of the file, an index behind the source's query, a closer database)")
	case weir.StageTransform:
		if s.Goroutines < cpus {
			advice = append(advice, fmt.Sprintf("the transform is the limit: raise --workers (now %d; %d CPUs)", s.Goroutines, cpus))
		} else {
			advice = append(advice, fmt.Sprintf("the transform is the limit and --workers (%d) already covers the %d CPUs: more CPUs, or a cheaper transform, will help", s.Goroutines, cpus))
		}
	case weir.StageLoad:
		bigger := fmt.Sprintf("--batch (now ~%d)", perBatch)
		if memLimited {
			bigger = fmt.Sprintf("--memory (batches are held to %s each, ~%d records)", formatSize(m.BatchBytes), perBatch)
		}
		advice = append(advice, loadAdvice(st, s, bigger))
	}
	if s.Retries > 0 {
		advice = append(advice, fmt.Sprintf("%d calls were retried: the %s failed transiently, and its backoff is in the busy time", s.Retries, map[weir.Stage]string{weir.StageExtract: "source", weir.StageLoad: "target"}[stage]))
	}
	return finding + "\n  " + strings.Join(advice, "\n  ") + "\n"
}

// loadAdvice is the advice when loading is the limit: from the adaptive
// limiter when it ran, from the configuration otherwise.
// bigger names the flag that makes batches larger, with its value.
func loadAdvice(st weir.Stats, s weir.StageStats, bigger string) string {
	if st.LoadLimit > 0 {
		if st.LoadLimit < s.Goroutines {
			return fmt.Sprintf("the target is the limit: the adaptive limiter settled at %d of %d loads in flight because more made the target slower; more concurrency will not help, a faster target or a larger %s might", st.LoadLimit, s.Goroutines, bigger)
		}
		return fmt.Sprintf("the target is the limit and the adaptive limiter reached its maximum of %d loads in flight: raise --load-concurrency", s.Goroutines)
	}
	if s.Goroutines == 1 {
		return fmt.Sprintf("the target is the limit with one load at a time: a target that takes several writers (PostgreSQL) gains from --load-concurrency (now 1); SQLite and files take one, so try a larger %s", bigger)
	}
	return fmt.Sprintf("the target is the limit: raise --load-concurrency (now %d) while the database has idle CPU, or a larger %s to pay each transaction's fixed cost less often", s.Goroutines, bigger)
}

// goroutineNoun names what runs a stage.
func goroutineNoun(st weir.Stage, n int) string {
	noun := map[weir.Stage]string{weir.StageExtract: "reader", weir.StageTransform: "worker", weir.StageLoad: "loader"}[st]
	if n != 1 {
		noun += "s"
	}
	return noun
}
