package exec_test

import (
	"testing"

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
