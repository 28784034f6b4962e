package zk

import "testing"

func TestJavaDouble(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {3, "3.0"}, {1.375, "1.375"}, {0.0769, "0.0769"}, {1e-4, "1.0E-4"}, {1.5e7, "1.5E7"}, {71, "71.0"},
	} {
		if got := javaDouble(c.f); got != c.want {
			t.Errorf("javaDouble(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestSummary(t *testing.T) {
	s := summary{percentiles: true}
	if v := s.read(); v != (summaryValues{}) {
		t.Fatalf("empty summary: %+v", v)
	}
	for i := int64(1); i <= 100; i++ {
		s.add(i)
	}
	v := s.read()
	if v.count != 100 || v.sum != 5050 || v.min != 1 || v.max != 100 || v.avg != 50.5 {
		t.Fatalf("summary: %+v", v)
	}
	if v.p50 != 50 || v.p95 != 95 || v.p99 != 99 || v.p999 != 100 {
		t.Fatalf("percentiles: %+v", v)
	}
	// The percentiles cover the most recent maxSamples values.
	for range maxSamples {
		s.add(7)
	}
	if v := s.read(); v.p50 != 7 || v.p999 != 7 || v.max != 100 || v.count != 100+maxSamples {
		t.Fatalf("after a window of 7s: %+v", v)
	}
	s.reset()
	if v := s.read(); v.count != 0 || v.p50 != 0 {
		t.Fatalf("after reset: %+v", v)
	}
}

func TestTopNamespace(t *testing.T) {
	for path, want := range map[string]string{"/": "", "/a": "a", "/a/b/c": "a", "/zookeeper/quota": ""} {
		if got := topNamespace(path); got != want {
			t.Errorf("topNamespace(%q) = %q, want %q", path, got, want)
		}
	}
}
