package exec_test

import (
	"strings"
	"testing"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/store"
)

func TestUpdateDelete(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	got := run(t, s, `CREATE TABLE t (id int PRIMARY KEY, v text UNIQUE, n int);
		INSERT INTO t VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30);
		UPDATE t SET n = n + 1 WHERE id = 1;
		DELETE FROM t WHERE id = 2;
		UPDATE t SET id = id + 10 WHERE id = 3 RETURNING id, v;
		SELECT * FROM t ORDER BY id`)
	want := "CREATE TABLE\nINSERT 0 3\nUPDATE 1\nDELETE 1\n13|c\nUPDATE 1\n1|a|11\n13|c|30\nSELECT 2"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestDMLDeterministic runs the same statements (cascades, SET NULL,
// upserts, a key-less table's row ids) on two stores with the same
// timestamp and seed, as two replicas apply them, and requires the same
// writes.
func TestDMLDeterministic(t *testing.T) {
	script := `CREATE TABLE p (id int PRIMARY KEY, v text UNIQUE);
		CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p ON DELETE CASCADE ON UPDATE CASCADE);
		CREATE TABLE n (pid int REFERENCES p ON DELETE SET NULL ON UPDATE CASCADE, note text CHECK (note <> ''));
		INSERT INTO p VALUES (1, 'a'), (2, 'b'), (3, 'c');
		INSERT INTO c VALUES (10, 1), (11, 2), (12, 2);
		INSERT INTO n VALUES (1, 'x'), (2, 'y'), (3, 'z');
		UPDATE p SET id = id + 100 WHERE id >= 2;
		DELETE FROM p WHERE id = 1;
		INSERT INTO p VALUES (5, 'b'), (6, 'f') ON CONFLICT (v) DO UPDATE SET v = excluded.v || '!';
		INSERT INTO n VALUES (NULL, '')`
	var writes [2][]string
	for i := range writes {
		s := store.NewOverlay(store.Memory{}, false)
		run(t, s, script)
		s.Writes(func(k, v []byte, del bool) bool {
			writes[i] = append(writes[i], string(k)+"="+string(v))
			return true
		})
	}
	if len(writes[0]) == 0 || strings.Join(writes[0], "\n") != strings.Join(writes[1], "\n") {
		t.Fatalf("replicas disagree:\n%q\n%q", writes[0], writes[1])
	}
	s := store.NewOverlay(store.Memory{}, false)
	got := run(t, s, script+`;
		SELECT * FROM c ORDER BY id;
		SELECT pid, note FROM n ORDER BY note`)
	want := "11|102\n12|102\nSELECT 2\nNULL|x\n102|y\n103|z\nSELECT 3"
	if !strings.HasSuffix(got, want) {
		t.Fatalf("got\n%s\nwant suffix\n%s", got, want)
	}
}

// TestRowIDsAcrossStatements inserts into a table without a primary key
// from several statements of one transaction, each with an Env of its
// own, as a session runs a block (or COPY, a statement per row): the
// statements share the transaction's timestamp, and here even their
// random seed, so only the transaction's row numbering keeps the row ids
// apart.
func TestRowIDsAcrossStatements(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	run(t, s, "CREATE TABLE h (v int)")
	cats := &exec.Catalogs{}
	sess := exec.NewSession("postgres", "postgres")
	var rowIDs uint32
	ins, err := exec.Parse("INSERT INTO h VALUES (1), (2)")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		env := &exec.Env{Store: s, Catalogs: cats, Session: sess, Now: 42, Seed: 7, RowIDs: &rowIDs}
		if _, err := exec.Execute(env, ins[0], nil, nil); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
	}
	if got := run(t, s, "SELECT count(*) FROM h"); got != "6\nSELECT 1" {
		t.Fatalf("got %q", got)
	}
}
