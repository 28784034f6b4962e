package exec

import (
	"fmt"
	"testing"
)

// TestNoDuplicateOverloads checks that no function or operator is
// registered twice with the same argument types (the second would never
// be chosen).
func TestNoDuplicateOverloads(t *testing.T) {
	for kind, reg := range map[string]map[string][]*Func{"function": functions, "operator": operators} {
		for name, fs := range reg {
			seen := map[string]bool{}
			for _, f := range fs {
				key := fmt.Sprint(f.Args, f.Variadic)
				if seen[key] {
					t.Errorf("%s %s%v is registered twice", kind, name, f.Args)
				}
				seen[key] = true
			}
		}
	}
}
