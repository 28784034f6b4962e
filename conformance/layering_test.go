package conformance

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering checks the hourglass's import arrows: nothing below the
// waist knows the engines or the personalities, the platform knows
// neither the log's implementation nor anything above it, and the
// personalities see the log only through the platform.
func TestLayering(t *testing.T) {
	rules := []struct {
		pkgs      string
		forbidden []string
	}{
		{"hourglass/platform/...", []string{"personalities", "engines", "loglet", "virtuallog", "node", "cmd"}},
		{"hourglass/engines/...", []string{"personalities", "loglet", "virtuallog", "node", "cmd"}},
		{"hourglass/personalities/...", []string{"loglet", "virtuallog", "engines/batching", "node", "cmd"}},
		{"hourglass/loglet/...", []string{"platform", "engines", "personalities", "virtuallog", "node", "cmd"}},
		{"hourglass/virtuallog/...", []string{"platform", "engines", "personalities", "node", "cmd"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, r.pkgs).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", r.pkgs, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			for _, dep := range f[1:] {
				for _, bad := range r.forbidden {
					if dep == "hourglass/"+bad || strings.HasPrefix(dep, "hourglass/"+bad+"/") {
						t.Errorf("%s depends on %s", f[0], dep)
					}
				}
			}
		}
	}
}
