package metrics

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestCommandRecords(t *testing.T) {
	s := New()
	start := time.Now()
	s.Command(Redis, "set").Done(start, false)
	s.Command(Redis, "set").Done(start, true)
	s.Command(ZooKeeper, "create").Done(start, false)
	var nilSet *Set
	nilSet.Command(Redis, "get").Done(start, true) // records nothing, does not panic

	fams, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			key := f.GetName()
			for _, l := range m.Label {
				key += "," + l.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				got[key] = m.Counter.GetValue()
			case dto.MetricType_HISTOGRAM:
				got[key] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"hourglass_requests_total,redis,set":                  2,
		"hourglass_request_errors_total,redis,set":            1,
		"hourglass_request_duration_seconds,redis,set":        2,
		"hourglass_requests_total,zookeeper,create":           1,
		"hourglass_request_errors_total,zookeeper,create":     0,
		"hourglass_request_duration_seconds,zookeeper,create": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["hourglass_requests_total,redis,get"]; ok {
		t.Error("a nil Set recorded a request")
	}
}

// BenchmarkCommandDone is the cost a request pays for its metrics: the
// recorder's lookup and one Done.
func BenchmarkCommandDone(b *testing.B) {
	s := New()
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.Command(Redis, "set").Done(start, false)
	}
}
